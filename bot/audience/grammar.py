"""The audience grammar: reads an AUDIENCE text against the directory into terms, then into
stored tokens (`parse_audience`). Unclear words raise AudienceError with the closest readings."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy.ext.asyncio import AsyncSession

from bot.audience.terms import AudienceError, Piece, Reading, Term, Word, assemble, hint, lex
from bot.audience.words import (AND_WORDS, AREA_LANGUAGES, AREA_NAME, CITY_KEYS,
                                 EVERYONE_PHRASES, FILLER_WORDS, HERE_PHRASES, MAX_READINGS,
                                 MUNICIPALITY_NAME, ORG_ID_WORDS, PROVINCE_KEYS, ROLE_BY_PHRASE,
                                 ROLE_DISPLAY, role_names)
from bot.directory.text import is_cyrillic, phrase
from bot.i18n import _, current_locale
from bot.people import People
from bot.policy import Role

class Grammar:
    """Reads AUDIENCE texts against one directory (None: roles, codes and names only)."""

    def __init__(self, directory: Any = None):
        self.directory = directory

    def parse(self, text: str) -> list[Term]:
        pieces = self._pieces(text, lex(text))
        terms = assemble(pieces)
        if not terms:
            raise AudienceError(_("The audience is empty.") + " " + hint(), source=text)
        return terms

    # -- pieces --
    def _pieces(self, text: str, words: list[Word]) -> list[Piece]:
        pieces: list[Piece] = []
        i, prefer = 0, None
        while i < len(words):
            word = words[i]
            found = self._piece(text, words, i, prefer)
            if found is None:  # a filler, or a word saying which kind of place follows
                prefer = ("city" if word.key in CITY_KEYS else
                          "area" if word.key in PROVINCE_KEYS else prefer)
                i += 1
                continue
            size, piece = found
            pieces.append(piece)
            prefer = None if piece.kind == "place" else prefer
            i += size
        return pieces

    def _piece(self, text, words, i, prefer) -> tuple[int, Piece] | None:
        word = words[i]
        if word.special == "and":
            return 1, Piece("and", ",", word.start, word.end)
        if word.special == "code":
            return 1, self._code(text, word)
        if word.special == "handle":
            return 1, Piece("handle", text[word.start:word.end], word.start, word.end)
        known = self._phrase(words, i)
        if known is not None:
            return known
        if word.key == "en":
            return 1, Piece("en", None, word.start, word.end)
        if word.key in AND_WORDS:
            return 1, Piece("and", "and", word.start, word.end)
        place = self._place(text, words, i, prefer)
        if word.key in FILLER_WORDS or word.key in CITY_KEYS:
            return place  # "La Louvière" is a place; "la" alone is skipped
        named = self._organisation(text, words, i, place[0] if place else 0)
        if named is not None:
            size, span, found = named
            return size, Piece("org", self._one_organisation(text, span, found), *span)
        if place is not None:
            return place
        raise self._unknown(text, words, i)

    def _phrase(self, words, i) -> tuple[int, Piece] | None:
        """Role words, everyone-words and here-words, longest first."""
        for size in range(min(4, len(words) - i), 0, -1):
            chunk = words[i:i + size]
            if any(w.special for w in chunk):
                continue
            key = " ".join(w.key for w in chunk)
            start, end = chunk[0].start, chunk[-1].end
            if key in ROLE_BY_PHRASE:
                return size, Piece("role", ROLE_BY_PHRASE[key].code, start, end)
            if key in EVERYONE_PHRASES:
                return size, Piece("all", None, start, end)
            if key in HERE_PHRASES:
                return size, Piece("here", None, start, end)
        return None

    def _code(self, text: str, word: Word) -> Piece:
        kind, value = (part.strip() for part in word.key.split(":", 1))
        kind = kind.lower()
        span = (word.start, word.end)
        if kind == "role":
            role = Role.parse(value) or ROLE_BY_PHRASE.get(phrase(value))
            if role is None:
                raise AudienceError(_("Unknown role \"{role}\". Roles: {roles}.").format(
                    role=value[:30], roles=role_names()), source=text, span=span,
                    readings=self._closest(value, roles=True))
            return Piece("role", role.code, *span)
        if kind == "org":
            if not ORG_ID_WORDS.fullmatch(value):
                raise AudienceError(_("\"{value}\" is not an organisation code.").format(
                    value=value[:40]) + " " + hint(), source=text, span=span)
            return Piece("org", tuple(value.split("+")), *span)
        code = self.directory.area_code(value) if self.directory is not None else None
        readings = self._readings(phrase(value)) if code is None and self.directory else []
        if readings:  # `area:Wallonie`: a place name where a code was expected
            return Piece("place", self._one_place(text, span, readings, None), *span)
        if code is None:
            raise AudienceError(_("Unknown area code \"{code}\". Write a place as you would "
                                  "say it (\"Hainaut\", \"Waals-Brabant\", \"Luik\", 4000) or "
                                  "a code: BE, a region or province (BE-WAL, BE-VOV), a "
                                  "Statbel NIS code (62063) or DG, FWB, VG.").format(
                                      code=value[:30]), source=text, span=span,
                                readings=self._closest(value, places=True))
        return Piece("place", code, *span)

    # -- places --
    def _place(self, text, words, i, prefer) -> tuple[int, Piece] | None:
        if self.directory is None:
            return None
        longest = self.directory.gazetteer.max_name_tokens
        for size in range(min(longest, len(words) - i), 0, -1):
            chunk = words[i:i + size]
            if any(w.special for w in chunk):
                continue
            key = " ".join(w.key for w in chunk)
            if size == 1 and not key.isdecimal() and (len(key) < 3 or key in FILLER_WORDS
                                                      or key in CITY_KEYS):
                continue
            readings = self._readings(key)
            if readings:
                span = (chunk[0].start, chunk[-1].end)
                return size, Piece("place", self._one_place(text, span, readings, prefer), *span)
        return None

    def _readings(self, key: str) -> list[tuple[int, tuple[str, ...]]]:
        readings = self.directory.place_readings(key)
        if readings or not is_cyrillic(key) or " " in key:
            return readings
        # Ukrainian declines place names ("у Льєжі", "до Брюсселя"): try the base form.
        for base in (key[:-1], key[:-1] + "ь", key[:-1] + "я", key[:-2], key[:-2] + "ія"):
            readings = self.directory.place_readings(base) if len(base) > 2 else []
            if readings:
                return readings
        return []

    def _one_place(self, text, span, readings, prefer) -> str:
        """The area meant, or AudienceError asking which one: "Namur" may be the city or the
        province; a name shared by two municipalities is asked back too."""
        by_priority = dict(readings)
        if prefer == "area" and AREA_NAME in by_priority:
            codes = by_priority[AREA_NAME]
        elif prefer == "city" and MUNICIPALITY_NAME in by_priority:
            codes = by_priority[MUNICIPALITY_NAME]
        elif MUNICIPALITY_NAME in by_priority and AREA_NAME in by_priority:
            codes = by_priority[MUNICIPALITY_NAME] + by_priority[AREA_NAME]
        else:
            codes = readings[0][1]
        codes = tuple(dict.fromkeys(codes))
        if len(codes) == 1:
            return codes[0]
        raise AudienceError(_("\"{item}\" can mean several places. Which one?").format(
            item=text[span[0]:span[1]]), source=text, span=span,
            readings=[Reading(self._level_label(code), f"area:{code}") for code in codes])

    def _level_label(self, code: str) -> str:
        """"Namur (municipality)" next to "Province de Namur" when asking which is meant."""
        if self.directory.gazetteer.area(code).level != "municipality":
            return self.area_label(code)
        return _("{name} (municipality)").format(name=self.area_label(code))

    def area_label(self, code: str) -> str:
        if self.directory is None:
            return code
        lang = current_locale() if current_locale() in AREA_LANGUAGES else "en"
        return self.directory.area_label(self.directory.area_code(code) or code, lang)

    # -- organisations --
    def _organisation(self, text: str, words: list[Word], i: int,
                      shorter: int) -> tuple[int, tuple[int, int], dict] | None:
        """The longest run of words from `i` that names organisations in the directory, when
        it is longer than `shorter` words (the place read at `i`: "Brabant wallon" is a
        place even if an organisation has "Brabant" in its name)."""
        if self.directory is None:
            return None
        end = i
        while end < len(words) and not words[end].special and self._phrase(words, end) is None:
            end += 1
        joined = [k for k in range(i, end) if words[k].key in AND_WORDS or words[k].key == "en"]
        # "CPAS de Mons et OCMW Aalst" is two organisations: a name runs across "and" only
        # when it is an organisation's whole name ("Agentschap Integratie en Inburgering").
        names = _organisation_names(self.directory)
        for stop in range(end, joined[0] if joined else end, -1):
            span = (words[i].start, words[stop - 1].end)
            entries = names.get(phrase(text[span[0]:span[1]]))
            if entries:
                return stop - i, span, {entries[0].organisation: entries}
        for stop in range(joined[0] if joined else end, i + shorter, -1):
            last = words[stop - 1].key
            if last in FILLER_WORDS or last in AND_WORDS or last == "en":
                continue
            span = (words[i].start, words[stop - 1].end)
            found = self.directory.organisations_named(text[span[0]:span[1]])
            if found:
                if self._unplaced_after(words, stop):
                    raise self._unknown(text, words, i)  # "CPAS de Monss": ask about it all
                return stop - i, span, found
        return None

    def _unplaced_after(self, words, stop) -> bool:
        """Whether the next word after a name (fillers skipped) is one nothing else reads."""
        while stop < len(words) and words[stop].key in FILLER_WORDS and not words[stop].special:
            stop += 1
        if stop >= len(words) or words[stop].special or self._phrase(words, stop) is not None:
            return False
        key = words[stop].key
        return (key not in AND_WORDS and key != "en" and key not in CITY_KEYS
                and not self._is_place(key))

    def _one_organisation(self, text, span, found: dict) -> tuple[str, ...]:
        if len(found) == 1:
            return tuple(entry.id for entry in next(iter(found.values())))
        item = text[span[0]:span[1]]
        readings = [Reading(self._organisation_label(entries),
                            "org:" + "+".join(entry.id for entry in entries))
                    for entries in found.values()][:MAX_READINGS]
        if len(found) > MAX_READINGS:
            message = _("\"{item}\" names {count} organisations; here are the first {shown}. "
                        "If yours is not among them, write its name in full.").format(
                            item=item, count=len(found), shown=len(readings))
        else:
            message = _("\"{item}\" names several organisations. Which one?").format(item=item)
        raise AudienceError(message, source=text, span=span, readings=readings)

    @staticmethod
    def _organisation_label(entries) -> str:
        return organisation_label(entries[0])

    # -- words it cannot place --
    def _unknown(self, text, words, i) -> AudienceError:
        end = i + 1
        while end < len(words) and not words[end].special and self._phrase(words, end) is None \
                and words[end].key not in AND_WORDS and (words[end].key in FILLER_WORDS
                                                    or not self._is_place(words[end].key)):
            end += 1
        while end > i + 1 and words[end - 1].key in FILLER_WORDS:
            end -= 1
        span = (words[i].start, words[end - 1].end)
        item = text[span[0]:span[1]]
        readings = self._closest(item, roles=True, places=True, organisations=True)
        message = _("I cannot place \"{item}\" in the audience.").format(item=item)
        if readings:
            message += " " + _("Did you mean one of these?")
        else:
            message += " " + hint()
        return AudienceError(message, source=text, span=span, readings=readings)

    def _is_place(self, key: str) -> bool:
        return self.directory is not None and len(key) > 2 and bool(self._readings(key))

    def _closest(self, item: str, *, roles: bool = False, places: bool = False,
                 organisations: bool = False) -> list[Reading]:
        query = phrase(item)
        scored: list[tuple[float, Reading]] = []
        if roles:
            scored += self._closest_roles(query)
        if places and self.directory is not None:
            scored += self._closest_places(query)
        if organisations and self.directory is not None:
            scored += self._closest_organisations(query)
        scored.sort(key=lambda pair: -pair[0])
        readings: list[Reading] = []
        for _score, reading in scored:
            if reading.label not in {r.label for r in readings}:
                readings.append(reading)
        return readings[:MAX_READINGS]

    @staticmethod
    def _closest_roles(query: str) -> list[tuple[float, Reading]]:
        return [(score, Reading(ROLE_DISPLAY[key], ROLE_DISPLAY[key]))
                for key, score, _i in process.extract(query, list(ROLE_DISPLAY),
                                                      scorer=fuzz.ratio, limit=2,
                                                      score_cutoff=75)]

    def _closest_places(self, query: str) -> list[tuple[float, Reading]]:
        scored: list[tuple[float, Reading]] = []
        for key, score, _i in process.extract(query, _place_names(self.directory),
                                              scorer=fuzz.ratio, limit=3, score_cutoff=80):
            for _priority, codes in self.directory.place_readings(key)[:1]:
                scored += [(score, Reading(self.area_label(code), f"area:{code}"))
                           for code in codes]
        return scored

    def _closest_organisations(self, query: str) -> list[tuple[float, Reading]]:
        names = _organisation_names(self.directory)
        return [(score, Reading(self._organisation_label(names[key]),
                                "org:" + "+".join(e.id for e in names[key])))
                for key, score, _i in process.extract(query, list(names), scorer=fuzz.ratio,
                                                      limit=3, score_cutoff=75)]


_NAME_CACHE: dict[str, tuple[Any, Any]] = {}


def _place_names(directory) -> list[str]:
    cached = _NAME_CACHE.get("places")
    if cached is None or cached[0] is not directory.gazetteer:
        cached = _NAME_CACHE["places"] = (directory.gazetteer, list(directory.gazetteer.names))
    return cached[1]


def _organisation_names(directory) -> dict[str, list]:
    """Folded organisation names → the entries of that organisation (per index build)."""
    cached = _NAME_CACHE.get("organisations")
    if cached is None or cached[0] is not directory.index:
        names: dict[str, list] = {}
        by_org: dict[str, list] = {}
        for entry in directory.index.entries:
            by_org.setdefault(entry.organisation, []).append(entry)
        for entries in by_org.values():
            entry = entries[0]
            for name in (entry.organisation, entry.acronym, *entry.organisation_names.values()):
                if name and phrase(name):
                    names.setdefault(phrase(name), entries)
        cached = _NAME_CACHE["organisations"] = (directory.index, names)
    return cached[1]



async def parse_audience(session: AsyncSession, people: People, text: str, *,
                         origin_chat: str, platform: str, directory: Any = None) -> list[str]:
    """The AUDIENCE text → stored tokens, checking every name; AudienceError otherwise."""
    terms = Grammar(directory).parse(text)
    found: list[str] = []
    for term in terms:
        if term.handle:
            user = await people.find(session, term.handle, platform)
            if user is None:
                raise AudienceError(_("I do not know {name}: they must write to me once "
                                      "first.").format(name=term.handle[:80]), source=text)
            term = replace(term, handle=None)
            tokens_ = [f"user:{user.id}"]
        else:
            tokens_ = term.tokens(origin_chat)
        found += [token for token in tokens_ if token not in found]
    return found


def organisation_label(entry) -> str:
    """The name in the reader's language when it is short ("CPAS de Mons"), else the name
    people use ("Fedasil" rather than the agency's full name)."""
    local = entry.organisation_names.get(current_locale()) or ""
    return local if 0 < len(local) <= 40 else entry.organisation
