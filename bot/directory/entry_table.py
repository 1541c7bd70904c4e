"""The index structure: the active entries by position, and the tables a search looks them up
in (by topic and area, by coverage width, by the words of their names), built once from the
directory's records. Nothing here reads a query."""
from __future__ import annotations

import re
from array import array
from collections import defaultdict
from collections.abc import Iterable

from bot.directory.gazetteer import Gazetteer
from bot.directory.query import Concept
from bot.directory.records import EntryRecord
from bot.directory.text import phrase, tokens
from bot.directory.vocabulary import Vocabulary

_UPPER_RUN = re.compile(r"[A-ZÀ-ÖØ-ÞА-ЯІЇЄҐ]{2,}")


class EntryTable:
    def __init__(self, records: list[EntryRecord], gazetteer: Gazetteer,
                 vocabulary: Vocabulary) -> None:
        self.gazetteer = gazetteer
        self.vocabulary = vocabulary
        self.by_id: dict[str, EntryRecord] = {r.id: r for r in records}
        self.entries: list[EntryRecord] = [r for r in records if r.is_active]
        self.by_topic_area: dict[tuple[str, str], list[int]] = defaultdict(list)
        self.by_topic_width: dict[str, dict[int, list[int]]] = defaultdict(
            lambda: defaultdict(list))
        self.by_area: dict[str, list[int]] = defaultdict(list)
        self.includes: list[tuple[str, ...]] = []
        self.excludes: list[tuple[str, ...]] = []
        self.blobs: list[str] = []
        self.directory_words: set[str] = set()
        self._coverage_cache: dict[str, frozenset[str]] = {}
        self._positions: dict[str, int] | None = None
        self._label_parts = _label_parts(vocabulary)
        name_postings: dict[str, list[int]] = defaultdict(list)
        # Per entry, the specific service concepts it carries (contract rule 2), shared
        # between entries: few distinct ones exist.
        concepts_seen: dict[Concept, Concept] = {}
        concept_sets: dict[tuple[Concept, ...], tuple[Concept, ...]] = {}
        self.entry_concepts: list[tuple[Concept, ...]] = []
        for idx, entry in enumerate(self.entries):
            self._index_entry(idx, entry, name_postings)
            carried = tuple(sorted(concepts_seen.setdefault(c, c)
                                   for c in self._concepts_of(entry)))
            self.entry_concepts.append(concept_sets.setdefault(carried, carried))
        self.name_postings = {word: array("i", ids) for word, ids in name_postings.items()}
        self.known_concepts = set(concepts_seen)
        self.concept_tokens = max((len(str(c[-1]).split()) if c[0] == "kw" else 4
                                   for c in self.known_concepts), default=1)
        self.named_entries = max(1, len(self.entries))

    # ---- building ------------------------------------------------------------------------
    def _index_entry(self, idx: int, entry: EntryRecord,
                     name_postings: dict[str, list[int]]) -> None:
        includes = self._canonical(entry.includes)
        self.includes.append(includes)
        self.excludes.append(self._canonical(entry.excludes))
        width = max((self.gazetteer.area(c).rank for c in includes), default=0)
        for topic in entry.topics:
            for code in includes:
                self.by_topic_area[(topic, code)].append(idx)
            self.by_topic_width[topic][width].append(idx)
        for code in includes:
            self.by_area[code].append(idx)
        names = names_of(entry)
        words = tokens(" ".join((entry.service, " ".join(entry.keywords), " ".join(names))))
        self.blobs.append(" " + " ".join(dict.fromkeys(words)) + " ")
        self.directory_words.update(words)
        stop = self.vocabulary.stopwords
        for word in set(tokens(" ".join(names))):
            if word not in stop:
                name_postings[word].append(idx)

    def _canonical(self, codes: Iterable[str]) -> tuple[str, ...]:
        return tuple(c for c in (self.gazetteer.canonical(x) for x in codes) if c)

    def concept(self, key: str) -> Concept | None:
        """A phrase's meaning as a specific service (contract rule 2), or None when it names
        the broad topic itself (the first part of a topic label: "housing", "logement") or
        the asker's situation ("temporary protection"). The later parts of a topic label are
        one concept in every language ("leefloon" = "revenu d'intégration"), and so are the
        translations listed in `service_words.csv` ("train" = "trein" = "потяг")."""
        if not key or key in self.vocabulary.context or key in self.vocabulary.stopwords:
            return None
        service = self.vocabulary.service_words.get(key)
        if service is not None:
            return ("service", service)
        part = self._label_parts.get(key)
        if part is not None:
            return ("label", *part) if part[1] > 0 else None
        return ("kw", key)

    def _concepts_of(self, entry: EntryRecord) -> set[Concept]:
        found = set()
        for keyword in entry.keywords:
            key = phrase(keyword)
            if key not in self.vocabulary.service_words and (
                    looks_like_a_name(keyword) or self.gazetteer.lookup(key) is not None):
                continue  # names answer by contract rule 1, places by coverage ("FLE" is a service)
            concept = self.concept(key)
            if concept is not None:
                found.add(concept)
        return found

    # ---- what ranking asks of an entry -----------------------------------------------------
    def excluded(self, idx: int, code: str) -> bool:
        return any(self.gazetteer.overlaps(x, code) for x in self.excludes[idx])

    def carries(self, idx: int, concepts: frozenset[Concept]) -> bool:
        """Whether the entry carries one of the query's specific service words."""
        return bool(concepts) and any(c in concepts for c in self.entry_concepts[idx])

    def language_rank(self, idx: int, language: str | None) -> int:
        if not language:
            return 0
        return 0 if language in self.entries[idx].languages else 1

    def text_score(self, idx: int, text_tokens: tuple[str, ...]) -> int:
        blob = self.blobs[idx]
        return sum(1 for word in text_tokens if f" {word} " in blob)

    def position(self, entry_id: str) -> int | None:
        if self._positions is None:
            self._positions = {e.id: i for i, e in enumerate(self.entries)}
        return self._positions.get(entry_id)

    # ---- helpers for callers -------------------------------------------------------------
    def replace(self, record: EntryRecord) -> None:
        """Swaps in a newer version of an entry whose searchable fields did not change (its
        verification date after a confirmation)."""
        old = self.by_id.get(record.id)
        if old is None:
            return
        self.by_id[record.id] = record
        for idx, entry in enumerate(self.entries):
            if entry is old:
                self.entries[idx] = record
                break

    def municipalities_of(self, entry_id: str) -> frozenset[str]:
        """The municipalities an entry covers (its codes minus its `-` exclusions); empty for
        an unknown entry. Computed on demand and kept for the life of this index."""
        cached = self._coverage_cache.get(entry_id)
        if cached is not None:
            return cached
        record = self.by_id.get(entry_id)
        found: frozenset[str] = frozenset()
        if record is not None:
            gaz = self.gazetteer
            included: set[str] = set().union(*(gaz.area(c).municipalities
                                               for c in self._canonical(record.includes)))
            excluded: set[str] = set().union(*(gaz.area(c).municipalities
                                               for c in self._canonical(record.excludes)))
            found = frozenset(included - excluded)
        self._coverage_cache[entry_id] = found
        return found


def names_of(entry: EntryRecord) -> list[str]:
    """The names people call an entry by: its organisation names, acronym, the keywords that
    look like names, and the name proper before a comma."""
    names = [entry.organisation, *entry.organisation_names.values()]
    if entry.acronym:
        names.append(entry.acronym)
    names.extend(k for k in entry.keywords if looks_like_a_name(k))
    # "Ulysse, service de santé mentale": the part before the comma is the name proper.
    names.extend(n.split(",", 1)[0] for n in list(names) if "," in n)
    return list(dict.fromkeys(n.strip() for n in names if n.strip()))


def looks_like_a_name(keyword: str) -> bool:
    """"RIZIV", "Kind en Gezin", "Red Cross" name an organisation; "leefloon" does not."""
    if _UPPER_RUN.search(keyword):
        return True
    words = keyword.split()
    return len(words) >= 2 and sum(1 for w in words if w[:1].isupper()) >= 2


def _label_parts(vocabulary: Vocabulary) -> dict[str, tuple[str, int]]:
    cache = vocabulary.__dict__.setdefault("_label_parts_cache", {})
    if "parts" not in cache:
        cache["parts"] = vocabulary.label_phrases()
    parts: dict[str, tuple[str, int]] = cache["parts"]
    return parts
