"""Spelling correction of query words: the known words of the gazetteer, the vocabulary and
the directory, and the symmetric-delete tables that turn a typo into one of them."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz.distance import OSA

from bot.directory.gazetteer import Gazetteer
from bot.directory.text import deletes
from bot.directory.vocabulary import Vocabulary

MIN_FUZZY_LENGTH = 5        # shorter words are never "corrected" into vocabulary words
MIN_PLACE_TYPO_LENGTH = 4   # place names of 4-6 letters take one edit, longer ones two
MAX_TYPO_LENGTH = 40        # longer "words" are no place or topic: not worth correcting


@dataclass
class StaticSpelling:
    known: set[str]
    fixes: dict[str, list[str]]
    # word of a place name → how sure a place it names (the gazetteer's priorities: the
    # words of municipality names first, so that a typo becomes a municipality)
    place_tokens: dict[str, int] = field(default_factory=dict)
    long_places: dict[str, list[str]] = field(default_factory=dict)


class Spelling:
    """The words a query may use, and the corrections of those it misspells."""

    def __init__(self, gazetteer: Gazetteer, vocabulary: Vocabulary,
                 directory_words: set[str]) -> None:
        self._static = static_spelling(gazetteer, vocabulary)
        self.known = self._static.known | directory_words
        self._directory_fixes = delete_index(w for w in directory_words
                                             if len(w) >= MIN_FUZZY_LENGTH - 1
                                             and w not in self._static.known)

    def needs_correction(self, word: str) -> bool:
        return (MIN_PLACE_TYPO_LENGTH <= len(word) <= MAX_TYPO_LENGTH and not word.isdecimal()
                and word not in self.known)

    def correct(self, word: str) -> str | None:
        """The known word one edit away (a place name of 7+ letters: two edits), or None.
        Words of 4 letters are only corrected into place names."""
        candidates: set[str] = set()
        keys = deletes(word) | {word}
        places = self._static.place_tokens
        for fixes in (self._static.fixes, self._directory_fixes):
            for key in keys:
                candidates.update(fixes.get(key, ()))
            good = sorted((c for c in candidates if OSA.distance(word, c) <= 1
                           and (len(word) >= MIN_FUZZY_LENGTH or c in places)),
                          key=lambda c: (places.get(c, 9), c))
            if good:
                return good[0]
        if len(word) >= 6:
            return self._correct_long_place(word)
        return None

    def _correct_long_place(self, word: str) -> str | None:
        """Two edits into a place name of 7+ letters ("Antwrep", "Lüttig"); the first letter
        is taken as typed, which keeps the candidates few."""
        bucket = self._static.long_places.get(word[0], ())
        best: tuple[int, int, str] | None = None
        for candidate in bucket:
            if abs(len(candidate) - len(word)) > 2:
                continue
            distance = OSA.distance(word, candidate, score_cutoff=2)
            key = (distance, self._static.place_tokens[candidate], candidate)
            if distance <= 2 and (best is None or key < best):
                best = key
        return best[-1] if best else None


def static_spelling(gazetteer: Gazetteer, vocabulary: Vocabulary) -> StaticSpelling:
    """Known words and the spelling-correction table of the gazetteer and vocabulary; the same
    for every rebuild of the index, so computed once and kept on the vocabulary (with the
    gazetteer it was computed for)."""
    cache = vocabulary.__dict__.setdefault("_spelling", {})
    found = cache.get(id(gazetteer))
    cached = found[1] if found and found[0] is gazetteer else None
    if cached is None:
        cached = _compute_static_spelling(gazetteer, vocabulary)
        cache[id(gazetteer)] = (gazetteer, cached)
    return cached


def _compute_static_spelling(gazetteer: Gazetteer, vocabulary: Vocabulary) -> StaticSpelling:
    places: dict[str, int] = {}
    for key, by_priority in gazetteer.names.items():
        for w in key.split():
            if not w.isdecimal():
                places[w] = min(places.get(w, 9), min(by_priority))
    targets = set(places) | vocabulary.words()
    known = (targets | set(vocabulary.stopwords) | vocabulary.generic
             | set(vocabulary.offtopic)
             | {w for key in vocabulary.context for w in key.split()})
    fixes = delete_index(w for w in targets if len(w) >= MIN_PLACE_TYPO_LENGTH
                         and not w.isdecimal())
    long_places: dict[str, list[str]] = defaultdict(list)
    for word in sorted(places):
        if len(word) >= 7:
            long_places[word[0]].append(word)
    return StaticSpelling(known, fixes, places, dict(long_places))


def delete_index(words: Iterable[str]) -> dict[str, list[str]]:
    index: dict[str, list[str]] = defaultdict(list)
    for word in words:
        index[word].append(word)
        for variant in deletes(word):
            index[variant].append(word)
    return dict(index)
