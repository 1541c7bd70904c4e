"""Audiences: who a reminder, a meeting, a deadline, a broadcast or a check-in round goes to,
written in the person's own words (docs/commands.md, AUDIENCE).

    "les points focaux du Hainaut, CPAS de Mons et OCMW Aalst"
    → ["role:focal_point&area:50000", "org:cpas-mons", "org:ocmw-aalst"]

`parse_audience` reads the text into *terms* (who × where), then into stored tokens: `all`,
`chat:KEY`, `user:ID`, `role:CODE`, `org:ID`, `area:CODE`, several joined by `&` when they narrow
each other. Tokens are resolved to people and chats only when a message is sent
(`AudienceResolver`), so someone who gets a role later is in the next occurrence.

Role words come from the tables below (five languages, both genders, singular and plural);
organisations and places from the directory (`services.directory`, passed in as `directory`):
its search index names organisations, its gazetteer names places, and a person is in a place
when the directory entry they stand for lies in it or covers all of it (DirectoryService.
home_entry, entry_in_place).
A word the parser cannot place raises AudienceError with the closest readings; nothing is
ever dropped. This module knows nothing of chat."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Awaitable, Callable

from rapidfuzz import fuzz, process
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.directory.text import fold, is_cyrillic, phrase, tokens
from bot.i18n import N_, _, current_locale, ngettext
from bot.people import Identity, KnownChat, People, User
from bot.policy import ROLE_LABELS, Role

# ---- words ---------------------------------------------------------------------------------
# Role words as people write them; folded (accents, case) before comparison.
ROLE_WORDS: dict[Role, tuple[str, ...]] = {
    Role.FOCAL_POINT: (
        "point focal", "points focaux", "point de contact", "points de contact",
        "personne de contact", "personnes de contact", "référent", "référente", "référents",
        "référentes",
        "aanspreekpunt", "aanspreekpunten", "contactpersoon", "contactpersonen",
        "focal point", "focal points", "focalpoint", "focalpoints", "contact person",
        "contact persons", "contact people",
        "Ansprechpartner", "Ansprechpartnerin", "Ansprechpartnerinnen", "Ansprechpersonen",
        "Ansprechperson", "Kontaktperson", "Kontaktpersonen", "Anlaufstelle", "Anlaufstellen",
        "контактна особа", "контактні особи", "контактних осіб", "контактним особам",
        "контактну особу", "контактною особою"),
    Role.COORDINATOR: (
        "coordinateur", "coordinatrice", "coordinateurs", "coordinatrices",
        "coördinator", "coördinatoren", "coördinatrice", "coördinatrices", "coordinatoren",
        "coordinator", "coordinators",
        "Koordinator", "Koordinatorin", "Koordinatoren", "Koordinatorinnen",
        "координатор", "координаторка", "координатори", "координаторки", "координаторів",
        "координаторам", "координаторок"),
    Role.STAFF: (
        "personnel", "membre du personnel", "membres du personnel", "collaborateur",
        "collaboratrice", "collaborateurs", "collaboratrices", "agent", "agente", "agents",
        "agentes",
        "medewerker", "medewerkster", "medewerkers", "medewerksters", "personeel",
        "staff", "staff member", "staff members",
        "Mitarbeiter", "Mitarbeiterin", "Mitarbeiterinnen", "Personal",
        "працівник", "працівниця", "працівники", "працівниці", "працівників", "працівникам",
        "співробітник", "співробітниця", "співробітники", "співробітників", "персонал"),
    Role.ADMIN: (
        "administrateur", "administratrice", "administrateurs", "administratrices", "admin",
        "admins", "beheerder", "beheerders", "administrator", "administrators",
        "administratoren", "Administratorin", "Administratorinnen",
        "адміністратор", "адміністраторка", "адміністратори", "адміністраторів"),
    Role.GUEST: (
        "invité", "invitée", "invités", "invitées", "gast", "gasten", "guest", "guests",
        "Gäste", "гість", "гості", "гостей", "гостя"),
}
ROLE_PLURALS = {Role.GUEST: N_("guests"), Role.STAFF: N_("staff members"),
                Role.FOCAL_POINT: N_("focal points"), Role.COORDINATOR: N_("coordinators"),
                Role.ADMIN: N_("admins")}
EVERYONE = ("all", "everyone", "everybody", "tout le monde", "tous", "toutes", "iedereen",
            "allemaal", "alle", "allen", "jeder", "jede", "всі", "усі", "всім", "усім", "всіх",
            "усіх")
HERE = ("here", "ici", "hier", "тут", "this chat", "ce chat", "ce groupe", "deze chat",
        "deze groep", "dieser chat", "diese gruppe", "цей чат")
AND = ("et", "und", "and", "і", "та", "й", "&", "+")
# Articles and prepositions between the parts ("les points focaux *du* Hainaut"): skipped.
# "en" is "and" in Dutch and "in" in French: it is read as "in" before a place.
FILLERS = ("le", "la", "les", "l", "de", "du", "des", "d", "a", "à", "au", "aux", "dans",
           "pour", "chez", "of", "the", "in", "from", "for", "at", "to", "het", "van", "uit",
           "te", "voor", "bij", "op", "der", "die", "das", "den", "dem", "im", "aus", "von",
           "vom", "für", "bei", "zu", "zur", "zum", "у", "в", "з", "із", "зі", "для", "на", "до",
           "province", "provincie", "provinz", "провінція", "провінції", "region", "région",
           "regio", "gewest", "провінцію")
# Words that say a place is a municipality, not the province of the same name.
CITY_WORDS = ("ville", "commune", "stad", "gemeente", "city", "municipality", "town", "stadt",
              "gemeinde", "місто", "міста", "громада")
PROVINCE_WORDS = ("province", "provincie", "provinz", "провінція", "провінції", "провінцію")
MUNICIPALITY_NAME, AREA_NAME = 0, 1  # gazetteer priorities (see gazetteer.py)

_CODE = re.compile(r"(role|org|area):(\S+)", re.I)
_HANDLE = re.compile(r"@\S+|(telegram|matrix|console):\S+", re.I)
_ORG_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,99}(\+[A-Za-z0-9][A-Za-z0-9_.:\-]{0,99})*")
MAX_READINGS = 6
MAX_ROLE_WORDS = 3
AREA_LANGUAGES = ("fr", "nl", "de", "en")

_ROLE_BY_PHRASE = {phrase(word): role for role, words in ROLE_WORDS.items() for word in words}
for _role in Role:
    _ROLE_BY_PHRASE.setdefault(phrase(_role.code), _role)
_ROLE_DISPLAY = {phrase(word): word for words in ROLE_WORDS.values() for word in words}
_EVERYONE = {phrase(word) for word in EVERYONE}
_HERE = {phrase(word) for word in HERE}
_AND = {fold(word) for word in AND}
_FILLERS = {fold(word) for word in FILLERS}
_CITY = {fold(word) for word in CITY_WORDS}
_PROVINCE = {fold(word) for word in PROVINCE_WORDS}


def parse_role(text: str) -> Role | None:
    """A role from its code or a role word in any language ("coordinatrice", "aanspreekpunt",
    "point focal", `focal_point`); None when it is none."""
    return Role.parse(text) or _ROLE_BY_PHRASE.get(phrase(text))


def split_role(text: str) -> tuple[Role | None, str, str]:
    """The role word(s) at the start of `text` and the rest: "point focal CPAS de Liège" →
    (FOCAL_POINT, "point focal", "CPAS de Liège"). The longest role phrase wins."""
    raw = text.split()
    for size in range(min(MAX_ROLE_WORDS, len(raw)), 0, -1):
        role = parse_role(" ".join(raw[:size]))
        if role is not None:
            return role, " ".join(raw[:size]), " ".join(raw[size:])
    return None, raw[0] if raw else "", " ".join(raw[1:])


def role_names() -> str:
    """The roles as the reader writes them, for error messages."""
    return ", ".join(_(ROLE_LABELS[role]) for role in Role)


# ---- errors --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reading:
    """One thing an unclear part may mean: a label for the person and what replaces the part
    in the audience text when they choose it (a role word or a code)."""

    label: str
    text: str


class AudienceError(ValueError):
    """The audience cannot be used as written; `str(error)` is the translated explanation.
    `readings` are the choices to offer; `rewrite(reading)` is the audience text with the
    unclear part replaced by the chosen reading."""

    def __init__(self, message: str, *, source: str = "", span: tuple[int, int] = (0, 0),
                 readings: list[Reading] | None = None):
        super().__init__(message)
        self.source = source
        self.span = span
        self.readings = list(readings or [])

    @property
    def item(self) -> str:
        return self.source[self.span[0]:self.span[1]]

    def rewrite(self, reading: Reading) -> str:
        start, end = self.span
        return f"{self.source[:start]}{reading.text}{self.source[end:]}"


def hint() -> str:
    return _("Write who and where in your own words, e.g. \"focal points in Hainaut\", "
             "\"CPAS de Mons and OCMW Aalst\", \"coordinators\", \"everyone\", \"here\" or "
             "@name (the codes role:focal_point, org:ID and area:BE-WLG work too).")


# ---- parsing -------------------------------------------------------------------------------
@dataclass
class _Word:
    key: str
    start: int
    end: int
    special: str | None = None  # "code", "handle" or "and"


@dataclass
class _Piece:
    kind: str  # role, org, place, all, here, handle, and, en
    value: Any
    start: int
    end: int


@dataclass
class Term:
    """One addressee: who (a role, organisations, everyone) narrowed by where (an area), or
    this chat, or one person."""

    role: str | None = None
    orgs: tuple[str, ...] = ()
    area: str | None = None
    everyone: bool = False
    here: bool = False
    handle: str | None = None
    joined: str = ""  # how the next term is joined: "," or "and" (a word)

    def empty(self) -> bool:
        return not (self.role or self.orgs or self.area or self.everyone or self.here
                    or self.handle)

    def tokens(self, origin_chat: str) -> list[str]:
        if self.here:
            return [f"chat:{origin_chat}"]
        area = [f"area:{self.area}"] if self.area else []
        role = [f"role:{self.role}"] if self.role else []
        if self.orgs:
            return ["&".join(role + [f"org:{org}"] + area) for org in self.orgs]
        return ["&".join(role + area)] if role or area else ["all"]


def _lex(text: str) -> list[_Word]:
    words = []
    for match in re.finditer(r",|[^\s,]+", text):
        raw, start, end = match.group(), match.start(), match.end()
        if raw == "," or raw in AND[-2:]:
            words.append(_Word(",", start, end, "and"))
        elif _CODE.fullmatch(raw):
            words.append(_Word(raw, start, end, "code"))
        elif _HANDLE.fullmatch(raw):
            words.append(_Word(raw, start, end, "handle"))
        else:
            words.extend(_Word(token, start, end) for token in tokens(raw))
    return words


class Grammar:
    """Reads AUDIENCE texts against one directory (None: roles, codes and names only)."""

    def __init__(self, directory: Any = None):
        self.directory = directory

    def parse(self, text: str) -> list[Term]:
        pieces = self._pieces(text, _lex(text))
        terms = _assemble(pieces)
        if not terms:
            raise AudienceError(_("The audience is empty.") + " " + hint(), source=text)
        return terms

    # -- pieces --
    def _pieces(self, text: str, words: list[_Word]) -> list[_Piece]:
        pieces: list[_Piece] = []
        i, prefer = 0, None
        while i < len(words):
            word = words[i]
            found = self._piece(text, words, i, prefer)
            if found is None:  # a filler, or a word saying which kind of place follows
                prefer = ("city" if word.key in _CITY else
                          "area" if word.key in _PROVINCE else prefer)
                i += 1
                continue
            size, piece = found
            pieces.append(piece)
            prefer = None if piece.kind == "place" else prefer
            i += size
        return pieces

    def _piece(self, text, words, i, prefer) -> tuple[int, _Piece] | None:
        word = words[i]
        if word.special == "and":
            return 1, _Piece("and", ",", word.start, word.end)
        if word.special == "code":
            return 1, self._code(text, word)
        if word.special == "handle":
            return 1, _Piece("handle", text[word.start:word.end], word.start, word.end)
        known = self._phrase(words, i)
        if known is not None:
            return known
        if word.key == "en":
            return 1, _Piece("en", None, word.start, word.end)
        if word.key in _AND:
            return 1, _Piece("and", "and", word.start, word.end)
        place = self._place(text, words, i, prefer)
        if word.key in _FILLERS or word.key in _CITY:
            return place  # "La Louvière" is a place; "la" alone is skipped
        named = self._organisation(text, words, i, place[0] if place else 0)
        if named is not None:
            size, span, found = named
            return size, _Piece("org", self._one_organisation(text, span, found), *span)
        if place is not None:
            return place
        raise self._unknown(text, words, i)

    def _phrase(self, words, i) -> tuple[int, _Piece] | None:
        """Role words, everyone-words and here-words, longest first."""
        for size in range(min(4, len(words) - i), 0, -1):
            chunk = words[i:i + size]
            if any(w.special for w in chunk):
                continue
            key = " ".join(w.key for w in chunk)
            start, end = chunk[0].start, chunk[-1].end
            if key in _ROLE_BY_PHRASE:
                return size, _Piece("role", _ROLE_BY_PHRASE[key].code, start, end)
            if key in _EVERYONE:
                return size, _Piece("all", None, start, end)
            if key in _HERE:
                return size, _Piece("here", None, start, end)
        return None

    def _code(self, text: str, word: _Word) -> _Piece:
        kind, value = (part.strip() for part in word.key.split(":", 1))
        kind = kind.lower()
        span = (word.start, word.end)
        if kind == "role":
            role = Role.parse(value) or _ROLE_BY_PHRASE.get(phrase(value))
            if role is None:
                raise AudienceError(_("Unknown role \"{role}\". Roles: {roles}.").format(
                    role=value[:30], roles=role_names()), source=text, span=span,
                    readings=self._closest(value, roles=True))
            return _Piece("role", role.code, *span)
        if kind == "org":
            if not _ORG_ID.fullmatch(value):
                raise AudienceError(_("\"{value}\" is not an organisation code.").format(
                    value=value[:40]) + " " + hint(), source=text, span=span)
            return _Piece("org", tuple(value.split("+")), *span)
        code = self.directory.area_code(value) if self.directory is not None else None
        readings = self._readings(phrase(value)) if code is None and self.directory else []
        if readings:  # `area:Wallonie`: a place name where a code was expected
            return _Piece("place", self._one_place(text, span, readings, None), *span)
        if code is None:
            raise AudienceError(_("Unknown area code \"{code}\". Write a place as you would "
                                  "say it (\"Hainaut\", \"Waals-Brabant\", \"Luik\", 4000) or "
                                  "a code: BE, a region or province (BE-WAL, BE-VOV), a "
                                  "Statbel NIS code (62063) or DG, FWB, VG.").format(
                                      code=value[:30]), source=text, span=span,
                                readings=self._closest(value, places=True))
        return _Piece("place", code, *span)

    # -- places --
    def _place(self, text, words, i, prefer) -> tuple[int, _Piece] | None:
        if self.directory is None:
            return None
        longest = self.directory.gazetteer.max_name_tokens
        for size in range(min(longest, len(words) - i), 0, -1):
            chunk = words[i:i + size]
            if any(w.special for w in chunk):
                continue
            key = " ".join(w.key for w in chunk)
            if size == 1 and not key.isdecimal() and (len(key) < 3 or key in _FILLERS
                                                      or key in _CITY):
                continue
            readings = self._readings(key)
            if readings:
                span = (chunk[0].start, chunk[-1].end)
                return size, _Piece("place", self._one_place(text, span, readings, prefer), *span)
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
    def _organisation(self, text, words, i, shorter: int) -> tuple[int, tuple[int, int], dict] | None:
        """The longest run of words from `i` that names organisations in the directory, when
        it is longer than `shorter` words (the place read at `i`: "Brabant wallon" is a
        place even if an organisation has "Brabant" in its name)."""
        if self.directory is None:
            return None
        end = i
        while end < len(words) and not words[end].special and self._phrase(words, end) is None:
            end += 1
        joined = [k for k in range(i, end) if words[k].key in _AND or words[k].key == "en"]
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
            if last in _FILLERS or last in _AND or last == "en":
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
        while stop < len(words) and words[stop].key in _FILLERS and not words[stop].special:
            stop += 1
        if stop >= len(words) or words[stop].special or self._phrase(words, stop) is not None:
            return False
        key = words[stop].key
        return key not in _AND and key != "en" and key not in _CITY and not self._is_place(key)

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
        return _organisation_label(entries[0])

    # -- words it cannot place --
    def _unknown(self, text, words, i) -> AudienceError:
        end = i + 1
        while end < len(words) and not words[end].special and self._phrase(words, end) is None \
                and words[end].key not in _AND and (words[end].key in _FILLERS
                                                    or not self._is_place(words[end].key)):
            end += 1
        while end > i + 1 and words[end - 1].key in _FILLERS:
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

    def _closest(self, item: str, *, roles=False, places=False,
                 organisations=False) -> list[Reading]:
        query = phrase(item)
        scored: list[tuple[float, Reading]] = []
        if roles:
            for key, score, _i in process.extract(query, list(_ROLE_DISPLAY), scorer=fuzz.ratio,
                                                  limit=2, score_cutoff=75):
                scored.append((score, Reading(_ROLE_DISPLAY[key], _ROLE_DISPLAY[key])))
        if places and self.directory is not None:
            names = _place_names(self.directory)
            for key, score, _i in process.extract(query, names, scorer=fuzz.ratio, limit=3,
                                                  score_cutoff=80):
                for _priority, codes in self.directory.place_readings(key)[:1]:
                    scored += [(score, Reading(self.area_label(code), f"area:{code}"))
                               for code in codes]
        if organisations and self.directory is not None:
            names = _organisation_names(self.directory)
            for key, score, _i in process.extract(query, list(names), scorer=fuzz.ratio,
                                                  limit=3, score_cutoff=75):
                entries = names[key]
                scored.append((score, Reading(self._organisation_label(entries),
                                              "org:" + "+".join(e.id for e in entries))))
        scored.sort(key=lambda pair: -pair[0])
        readings: list[Reading] = []
        for _score, reading in scored:
            if reading.label not in {r.label for r in readings}:
                readings.append(reading)
        return readings[:MAX_READINGS]


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


def _assemble(pieces: list[_Piece]) -> list[Term]:
    """Pieces → terms. Who and where in one term narrow each other; "and" and commas add
    terms. Where a sentence shares a part, it is shared: "focal points of P1 and P2" (the
    second term takes the role) and "coordinators and focal points of P" (the first takes
    the place; with a comma instead of "and", it does not)."""
    terms = _Terms()
    for index, piece in enumerate(pieces):
        terms.add(piece, pieces[index + 1] if index + 1 < len(pieces) else None)
    return terms.finish()


class _Terms:
    def __init__(self):
        self.terms: list[Term] = []
        self.current = Term()

    def add(self, piece: _Piece, following: _Piece | None) -> None:
        current = self.current
        if piece.kind in ("en", "and"):
            if piece.kind == "en" and following is not None and following.kind == "place" \
                    and not (current.area or current.orgs):
                return  # French "en Flandre"; after an organisation it is Dutch "and"
            current.joined = piece.value or "and"
            self.close()
        elif piece.kind == "all":
            current.everyone = True
        elif piece.kind in ("here", "handle"):  # complete on their own
            self.close()
            self.current = Term(here=piece.kind == "here",
                                handle=piece.value if piece.kind == "handle" else None)
            self.close()
        else:
            self.narrow(piece)

    def narrow(self, piece: _Piece) -> None:
        """A role, organisations or a place narrows the current term; a second one of a kind
        (or a who after a where) starts the next term."""
        current = self.current
        taken = {"role": current.role or current.area or current.orgs,
                 "org": current.orgs or current.area, "place": current.area}[piece.kind]
        if taken:
            self.close()
        setattr(self.current, {"role": "role", "org": "orgs", "place": "area"}[piece.kind],
                piece.value)

    def close(self) -> None:
        current, previous = self.current, self.terms[-1] if self.terms else None
        if not current.empty():
            only_place = current.area and not (current.role or current.orgs or current.everyone)
            if only_place and previous is not None and previous.area and previous.role:
                current.role = previous.role
            self.terms.append(current)
        self.current = Term()

    def finish(self) -> list[Term]:
        self.close()
        for first, second in reversed(list(zip(self.terms, self.terms[1:]))):
            if first.role and not (first.area or first.orgs) and first.joined == "and" \
                    and second.role and second.area:
                first.area = second.area
        return self.terms


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


def find_organisation(directory: Any, text: str) -> tuple[str, str | None]:
    """ORG [ENTRY] of /invite: an organisation by name ("CPAS de Liège", "OCMW Brugge"),
    `org:ID`, or ids as before ("cpas-liege entry-42"). Returns (organisation id, entry id);
    AudienceError with the closest readings when the name is unclear."""
    words = text.split()
    if words and words[0].lower().startswith("org:"):
        words[0] = words[0][4:]
    known = directory is not None and words and directory.index.get(words[0]) is not None
    ids = 0 < len(words) <= 2 and all(_ORG_ID.fullmatch(w) and "+" not in w for w in words)
    if ids and (known or text.lower().startswith("org:")):
        return words[0], words[1] if len(words) > 1 else None
    found = directory.organisations_named(text) if directory is not None else {}
    entries = [entry for group in found.values() for entry in group]
    if len(entries) == 1:
        return entries[0].id, None
    if entries:
        readings = [Reading(_entry_label(entry), f"org:{entry.id}") for entry in entries]
        message = _("\"{item}\" names several organisations or services. Which one?")
        if len(entries) > MAX_READINGS:
            message = _("\"{item}\" names {count} organisations; here are the first {shown}. "
                        "If yours is not among them, write its name in full.")
        raise AudienceError(message.format(item=text, count=len(entries), shown=MAX_READINGS),
                            source=text, span=(0, len(text)), readings=readings[:MAX_READINGS])
    if ids:
        return words[0], words[1] if len(words) > 1 else None
    readings = [r for r in Grammar(directory)._closest(text, organisations=True)
                if r.text.count("+") == 0]
    raise AudienceError(_("I cannot find the organisation \"{item}\" in the directory.").format(
        item=text[:80]), source=text, span=(0, len(text)), readings=readings)


def _entry_label(entry) -> str:
    service = entry.service if len(entry.service) <= 50 else entry.service[:49] + "…"
    return f"{_organisation_label(entry)} — {service}" if service else _organisation_label(entry)


def organisation_name(directory: Any, organisation_id: str) -> str | None:
    """The name of the organisation an id stands for, when the directory knows it."""
    entry = directory.index.get(organisation_id) if directory is not None else None
    return _organisation_label(entry) if entry is not None else None


def only_self(tokens_: list[str], user_id: int, own_chats: set[str]) -> bool:
    """True when every token addresses the person themselves (no permission needed)."""
    own = {f"user:{user_id}", *(f"chat:{key}" for key in own_chats)}
    return all(token in own for token in tokens_)


# ---- describing ----------------------------------------------------------------------------
async def describe(session: AsyncSession, directory: Any, tokens_: list[str],
                   here_chat: str) -> str:
    """The audience in the reader's words: "focal points in Province of Hainaut, CPAS de
    Mons"."""
    grammar = Grammar(directory)
    names = [await _describe_token(session, grammar, token, here_chat) for token in tokens_]
    return ", ".join(dict.fromkeys(names))


async def _describe_token(session, grammar: Grammar, token: str, here_chat: str) -> str:
    parts = dict(part.partition(":")[::2] for part in token.split("&"))
    if "chat" in parts:
        return _("this chat") if parts["chat"] == here_chat else parts["chat"]
    if "all" in parts:
        return _("every chat I know")
    if "user" in parts:
        user = await session.get(User, int(parts["user"])) if parts["user"].isdecimal() else None
        return user.display_name if user else token
    role = Role.parse(parts.get("role"))
    org = _organisation_name(grammar.directory, parts["org"]) if "org" in parts else None
    area = grammar.area_label(parts["area"]) if "area" in parts else None
    who = _(ROLE_PLURALS[role]) if role is not None else None  # Role.GUEST is 0
    if who and org:
        who = _("{who} of {organisation}").format(who=who, organisation=org)
    who = who or org
    if who and area:
        return _("{who} in {area}").format(who=who, area=area)
    return who or _("everyone based in {area}").format(area=area)


def _organisation_name(directory: Any, entry_id: str) -> str:
    entry = directory.index.get(entry_id) if directory is not None else None
    return _organisation_label(entry) if entry is not None else entry_id


def _organisation_label(entry) -> str:
    """The name in the reader's language when it is short ("CPAS de Mons"), else the name
    people use ("Fedasil" rather than the agency's full name)."""
    local = entry.organisation_names.get(current_locale()) or ""
    return local if 0 < len(local) <= 40 else entry.organisation


def recipients_line(names: list[str], total: int, shown: int = 5) -> str:
    """"12 recipients: Marie, Jan, Anna, Piet, Sofie and 7 others." — how many, and who first."""
    if total == 0:
        return _("Nobody receives it for now.")
    listed = ", ".join(names[:shown])
    line = ngettext("{count} recipient: {names}", "{count} recipients: {names}", total).format(
        count=total, names=listed)
    more = total - min(shown, len(names))
    if more > 0:
        line += " " + ngettext("and {count} other", "and {count} others", more).format(count=more)
    return line + "."


# ---- resolving -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Recipient:
    chat_key: str
    user_id: int | None = None  # None for a group chat
    locale: str | None = None
    timezone: str | None = None
    is_direct: bool = True
    name: str = ""  # the person's display name, or "" for a group


NO_DIRECT_CHAT, BLOCKED = "no_direct_chat", "blocked"


@dataclass(frozen=True)
class Unreachable:
    name: str
    reason: str  # NO_DIRECT_CHAT, or BLOCKED: the platform said the chat refuses the bot


# Given an area and the people the directory places somewhere, who else is in the area (the
# check-ins place people the directory does not by the region of their latest answer).
PlaceFallback = Callable[[str, set[int]], Awaitable[set[int]]]


@dataclass
class AudienceResolver:
    """Resolves tokens to people and chats. One per run: look-ups are cached, because a
    thousand reminders due at once mostly address the same few people and groups."""

    session: AsyncSession
    directory: Any = None
    place_fallback: PlaceFallback | None = None
    _direct: dict[int, tuple[Recipient | None, User]] = field(default_factory=dict)
    _chat: dict[str, Recipient] = field(default_factory=dict)
    _placed: list[tuple[User, str]] | None = None
    _blocked: set[str] | None = None

    async def prefetch(self, token_lists: list[list[str]], user_ids: set[int]) -> None:
        """Loads, in three queries, the people and chats a batch of schedules addresses, so
        that resolving each schedule afterwards needs no round trip."""
        ids = set(user_ids)
        chat_keys = set()
        for tokens_ in token_lists:
            for token in tokens_:
                kind, _sep, value = token.partition(":")
                if kind == "user" and value.isdecimal():
                    ids.add(int(value))
                elif kind == "chat":
                    chat_keys.add(value)
        if ids:
            users = {u.id: u for u in await self.session.scalars(
                select(User).where(User.id.in_(ids)))}
            identities = list(await self.session.scalars(select(Identity).where(
                Identity.user_id.in_(ids), Identity.direct_chat_id.is_not(None))
                .order_by(Identity.id)))
            for user_id, user in users.items():
                mine = [i for i in identities if i.user_id == user_id]
                self._direct[user_id] = (_recipient(mine[0], user) if mine else None, user)
        if chat_keys:
            chat_ids = {key.partition(":")[2] for key in chat_keys}
            found = list(await self.session.scalars(select(Identity).where(
                Identity.direct_chat_id.in_(chat_ids)).order_by(Identity.id)))
            for key in chat_keys:
                platform, _sep, chat_id = key.partition(":")
                match = next((i for i in found if i.platform == platform
                              and i.direct_chat_id == chat_id), None)
                self._chat[key] = (_recipient(match, match.user) if match
                                   else Recipient(key, None, None, None, False))

    async def resolve(self, tokens_: list[str]) -> tuple[list[Recipient], list[Unreachable]]:
        """Chats to write to, and who cannot be reached: people who never wrote to the bot,
        and chats that blocked it (`People.mark_unreachable`), whatever the audience kind."""
        found: dict[str, Recipient] = {}
        missing: list[Unreachable] = []
        for token in tokens_:
            recipients, unreachable = await self._one(token)
            for recipient in recipients:
                found.setdefault(recipient.chat_key, recipient)
            missing += [u for u in unreachable if u not in missing]
        blocked = await self.blocked_chats()
        missing += [Unreachable(r.name or r.chat_key, BLOCKED) for r in found.values()
                    if r.chat_key in blocked]
        return [r for r in found.values() if r.chat_key not in blocked], missing

    async def people(self, tokens_: list[str]) -> list[User]:
        """The people the tokens address (`all`: everyone; `chat:`: the person whose direct
        chat it is), in id order; for check-in rounds, which ask people, not chats."""
        found: dict[int, User] = {}
        for token in tokens_:
            for user in await self._people_of(token, chats_as_people=True):
                found[user.id] = user
        return [found[key] for key in sorted(found)]

    async def blocked_chats(self) -> set[str]:
        """Read once per resolver: a run resolving a thousand schedules asks once."""
        if self._blocked is None:
            self._blocked = set(await self.session.scalars(select(KnownChat.key).where(
                KnownChat.unreachable_since.is_not(None))))
        return self._blocked

    async def _one(self, token: str) -> tuple[list[Recipient], list[Unreachable]]:
        kind, _sep, value = token.partition(":")
        if kind == "chat":
            return [await self.chat(value)], []
        if token == "all":  # blocked chats are left out (and reported) by `resolve`
            chats = await self.session.scalars(select(KnownChat.key).order_by(KnownChat.key))
            return [await self.chat(key) for key in chats], []
        found, missing = [], []
        for user in await self._people_of(token):
            recipient = await self.direct(user)
            if recipient is None:
                missing.append(Unreachable(user.display_name, NO_DIRECT_CHAT))
            else:
                found.append(recipient)
        return found, missing

    async def _people_of(self, token: str, chats_as_people: bool = False) -> list[User]:
        """The people of one token; `a&b` is the people in both."""
        chosen: dict[int, User] | None = None
        for part in token.split("&"):
            users = {user.id: user for user in await self._people_one(part, chats_as_people)}
            chosen = users if chosen is None else {k: v for k, v in chosen.items() if k in users}
        return sorted((chosen or {}).values(), key=lambda user: user.id)

    async def _people_one(self, part: str, chats_as_people: bool) -> list[User]:
        kind, _sep, value = part.partition(":")
        if part == "all":
            return list(await self.session.scalars(select(User)))
        if kind == "user" and value.isdecimal():
            user = await self.session.get(User, int(value))
            return [user] if user is not None else []
        if kind == "role":
            return list(await self.session.scalars(select(User).where(User.role_code == value)))
        if kind == "org":
            return list(await self.session.scalars(select(User).where(
                or_(User.organisation_id == value, User.entry_id == value))))
        if kind == "area":
            return await self._in_area(value)
        if kind == "chat" and chats_as_people:
            recipient = await self.chat(value)
            user = await self.session.get(User, recipient.user_id) if recipient.user_id else None
            return [user] if user is not None else []
        return []

    async def _in_area(self, area: str) -> list[User]:
        placed = await self._placed_users()
        users = {user.id: user for user, entry in placed
                 if self.directory.entry_in_place(entry, area)}
        if self.place_fallback is not None:
            more = await self.place_fallback(area, {user.id for user, _entry in placed})
            more -= set(users)
            if more:
                users.update({u.id: u for u in await self.session.scalars(
                    select(User).where(User.id.in_(more)))})
        return list(users.values())

    async def _placed_users(self) -> list[tuple[User, str]]:
        """People linked to a directory entry, with the entry that places them (once per
        resolver: a run addressing several areas reads them once)."""
        if self._placed is None:
            self._placed = []
            if self.directory is not None:
                linked = await self.session.scalars(select(User).where(or_(
                    User.entry_id.is_not(None), User.organisation_id.is_not(None)))
                    .order_by(User.id))
                for user in linked:
                    entry = self.directory.home_entry(user.entry_id, user.organisation_id)
                    if entry is not None:
                        self._placed.append((user, entry))
        return self._placed

    async def direct(self, user: User) -> Recipient | None:
        if user.id not in self._direct:
            identity = await self.session.scalar(select(Identity).where(
                Identity.user_id == user.id, Identity.direct_chat_id.is_not(None))
                .order_by(Identity.id).limit(1))
            self._direct[user.id] = (_recipient(identity, user) if identity else None, user)
        return self._direct[user.id][0]

    async def chat(self, key: str) -> Recipient:
        if key not in self._chat:
            platform, _sep, chat_id = key.partition(":")
            identity = await self.session.scalar(select(Identity).where(
                Identity.platform == platform, Identity.direct_chat_id == chat_id)
                .order_by(Identity.id).limit(1))
            self._chat[key] = (_recipient(identity, identity.user, key) if identity
                               else Recipient(key, None, None, None, False))
        return self._chat[key]


def _recipient(identity: Identity, user: User, key: str | None = None) -> Recipient:
    return Recipient(key or f"{identity.platform}:{identity.direct_chat_id}", user.id,
                     user.locale, user.timezone, True, user.display_name)
