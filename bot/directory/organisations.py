"""Organisations named in a question ("Fedasil", "CPAS de Mons", "Croix-Rouge Gand"): the
entries whose names hold the query's distinctive words, weighted by how rare each word is."""
from __future__ import annotations

import heapq
import math
from collections.abc import Sequence

from bot.directory.entry_table import EntryTable, names_of
from bot.directory.phrases import PhraseReader
from bot.directory.query import Span
from bot.directory.records import EntryRecord
from bot.directory.text import phrase, tokens

MIN_ORG_SCORE = 0.5         # share of an organisation name's distinctive words the query holds
POSTING_CAP = 500           # a word in more names than this does not find organisations alone
MAX_ORGANISATIONS = 50      # organisations ranked per query (the best-matching ones)
MAX_VARIANTS_KEPT = 200_000

# Per name of an entry: its distinctive words, all its words, whether it is a full
# organisation name (not a keyword).
NameVariant = tuple[frozenset[str], frozenset[str], bool]


class OrganisationMatcher:
    def __init__(self, table: EntryTable, reader: PhraseReader) -> None:
        self.table = table
        self.reader = reader
        self.stopwords = table.vocabulary.stopwords
        self._variants_cache: dict[int, list[NameVariant]] = {}
        self._name_words_cache: dict[int, frozenset[str]] = {}

    def named_in(self, words: list[str], consumed: set[int]) -> dict[int, float]:
        """Entry positions → how fully the query names them (MIN_ORG_SCORE … 1). Only words
        that name neither the topic nor the place (not `consumed`) can point at an
        organisation: "CPAS Charleroi" is answered by the topic and the place."""
        stop = self.stopwords
        query_words = {w for w in words if w not in stop}
        free = {w for i, w in enumerate(words) if i not in consumed and w not in stop}
        candidates: set[int] = set()
        for word in free:
            posting = self.table.name_postings.get(word)
            if posting is not None and len(posting) <= POSTING_CAP:
                candidates.update(posting)
        found: dict[int, float] = {}
        for idx in candidates:
            best = self._score(idx, query_words, free)
            if best >= MIN_ORG_SCORE:
                found[idx] = best
        if len(found) > MAX_ORGANISATIONS:
            kept = heapq.nlargest(MAX_ORGANISATIONS, found.items(), key=lambda kv: (kv[1], -kv[0]))
            found = dict(kept)
        return found

    def _score(self, idx: int, query_words: set[str], free: set[str]) -> float:
        best = 0.0
        for distinctive, all_words, is_full_name in self._variants(idx):
            if is_full_name and len(all_words) >= 2 and all_words <= query_words:
                return 1.0
            if not distinctive:
                continue
            matched = distinctive & query_words
            if matched & free:
                best = max(best, self._weight(matched) / self._weight(distinctive))
        return best

    def _weight(self, words: frozenset[str]) -> float:
        """Rare words say more about which organisation is meant than common ones."""
        total = 0.0
        postings, named = self.table.name_postings, self.table.named_entries
        for word in words:
            posting = postings.get(word)
            frequency = len(posting) if posting is not None else 1
            total += math.log(1.0 + named / frequency)
        return total

    def _variants(self, idx: int) -> list[NameVariant]:
        """Computed on demand and kept."""
        cached = self._variants_cache.get(idx)
        if cached is not None:
            return cached
        entry = self.table.entries[idx]
        full_names = {entry.organisation, *entry.organisation_names.values()}
        generic = self.table.vocabulary.generic
        variants = []
        for name in names_of(entry):
            words = [w for w in tokens(name) if w not in self.stopwords]
            if not words:
                continue
            placeless = self.reader.without_places(words)
            distinctive = frozenset(w for w in placeless if w not in generic)
            variants.append((distinctive, frozenset(words), name in full_names))
        if len(self._variants_cache) > MAX_VARIANTS_KEPT:
            self._variants_cache.clear()
        self._variants_cache[idx] = variants
        return variants

    def sharing_name(self, name: str) -> list[int]:
        """Entries that also carry this multi-word name, found through the postings of its
        rarest word (looked up only when an organisation named misses the place)."""
        words = [w for w in tokens(name) if w not in self.stopwords]
        if len(words) < 2:
            return []
        postings = [self.table.name_postings.get(w) for w in words]
        if any(p is None for p in postings):
            return []
        rarest = min((p for p in postings if p is not None), key=len)
        if len(rarest) > MAX_ORGANISATIONS:
            return []
        key = phrase(name)
        entries = self.table.entries
        return [i for i in rarest if any(phrase(n) == key for n in names_of(entries[i]))]

    # ---- organisations by name, for audiences ----------------------------------------------
    def entries_named(self, text: str) -> list[EntryRecord]:
        """Entries whose organisation `text` names as people write it ("CPAS de Mons", "OCMW
        Aalst", "Fedasil"): every word that is not a place is a word of one of the entry's
        names (organisation names, acronym), and every place named is either in that name too
        or holds the entry's whole coverage ("CPAS Luik" is the CPAS of Liège)."""
        words = [w for w in tokens(text) if w not in self.stopwords]
        spans = [s for s in self.reader.spans(words, set()) if s.place]
        placed = {i for s in spans for i in range(s.start, s.end)}
        others = {w for i, w in enumerate(words) if i not in placed}
        rarest = self._rarest_posting(others)
        found, exact = [], []
        for idx in rarest:
            names = self._name_words(idx)
            if others <= names and all(self._place_fits(idx, names, words[s.start:s.end], s)
                                       for s in spans):
                found.append(self.table.entries[idx])
                if self._exact_name(idx, set(words)):
                    exact.append(self.table.entries[idx])
        # "CPAS de Liège" is the CPAS named so, not also "CPAS Saint-Nicolas (Liège)".
        return exact or found

    def _rarest_posting(self, words: set[str]) -> Sequence[int]:
        """The entries of the rarest of these name words; none when a word names nothing."""
        postings = []
        for word in words:
            posting = self.table.name_postings.get(word)
            if posting is None:
                return ()
            postings.append(posting)
        return min(postings, key=len) if postings else ()

    def exact_name(self, entry: EntryRecord, text: str) -> str | None:
        """The entry's name that `text` writes in full ("Fedasil" for both Fedasil entries,
        whatever their longer names), or None."""
        idx = self.table.position(entry.id)
        if idx is None:
            return None
        return self._exact_name(idx, {w for w in tokens(text) if w not in self.stopwords})

    def _exact_name(self, idx: int, wanted: set[str]) -> str | None:
        entry = self.table.entries[idx]
        for name in (entry.organisation, entry.acronym, *entry.organisation_names.values()):
            if name and {w for w in tokens(name) if w not in self.stopwords} == wanted:
                return name
        return None

    def _name_words(self, idx: int) -> frozenset[str]:
        found = self._name_words_cache.get(idx)
        if found is None:
            entry = self.table.entries[idx]
            found = self._name_words_cache[idx] = frozenset(tokens(" ".join(
                [entry.organisation, entry.acronym, *entry.organisation_names.values()])))
        return found

    def _place_fits(self, idx: int, names: frozenset[str], words: list[str], span: Span) -> bool:
        if all(w in names for w in words):
            return True
        covered = self.table.municipalities_of(self.table.entries[idx].id)
        gaz = self.table.gazetteer
        return bool(covered) and span.place is not None and any(
            covered <= gaz.area(code).municipalities for code in span.place.codes)
