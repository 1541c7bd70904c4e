"""The in-memory search index of the directory (docs: the directory contract, "Search semantics").

A query is parsed once against the gazetteer, the topic vocabulary and the organisation names
(typo-tolerant, accent- and case-insensitive), then entries are looked up by (topic, area) and
ranked by the contract's rules. Nothing here scans the whole directory per query: the cost
depends on the number of candidate entries for the query's topic and place, not on the size of
the directory."""
from __future__ import annotations

import heapq
import math
import re
from array import array
from collections import defaultdict
from dataclasses import dataclass, field

from rapidfuzz.distance import OSA

from bot.directory.gazetteer import LEVEL_RANK, MUNICIPALITY_NAME, Gazetteer, PlaceReading
from bot.directory.records import EntryRecord
from bot.directory.text import deletes, is_cyrillic, phrase, tokens
from bot.directory.vocabulary import TopicTerm, Vocabulary

RANK_LEVEL = {0: "municipality", 1: "arrondissement", 2: "province", 3: "region", 4: "country"}
MIN_FUZZY_LENGTH = 5        # shorter words are never "corrected" into vocabulary words
MIN_PLACE_TYPO_LENGTH = 4   # place names of 4-6 letters take one edit, longer ones two
MAX_TYPO_LENGTH = 40        # longer "words" are no place or topic: not worth correcting
MAX_SOUND_SEARCHES = 12     # Cyrillic words looked up by approximate sound, per query
MIN_ORG_SCORE = 0.5         # share of an organisation name's distinctive words the query holds
POSTING_CAP = 500           # a word in more names than this does not find organisations alone
MAX_ORGANISATIONS = 50      # organisations ranked per query (the best-matching ones)
MAX_SISTER_SOURCES = 3      # best-matching organisations whose sisters are looked up
_UPPER_RUN = re.compile(r"[A-ZÀ-ÖØ-ÞА-ЯІЇЄҐ]{2,}")


@dataclass
class Span:
    start: int
    end: int
    place: PlaceReading | None
    topics: list[TopicTerm]
    fuzzy: bool


@dataclass
class ParsedQuery:
    text: str
    tokens: list[str]
    language: str | None = None
    # The language the query itself is written in, when the words say so unambiguously (None
    # otherwise); `language` falls back to the caller's.
    detected_language: str | None = None
    topic: str | None = None
    topic_weights: dict[str, float] = field(default_factory=dict)
    place: PlaceReading | None = None
    place_words: str = ""
    organisations: dict[int, float] = field(default_factory=dict)
    text_tokens: tuple[str, ...] = ()
    corrections: dict[str, str] = field(default_factory=dict)
    # Specific service words of the query (contract rule 2), as concepts of the index.
    concepts: frozenset = frozenset()
    # Contract rule 5: no topic, service or organisation named — the weather, football,
    # small talk, or a place with words that name nothing the directory holds.
    not_a_directory_question: bool = False

    @property
    def kind(self) -> str:
        if self.organisations:
            return "organisation"
        if self.topic and self.place:
            return "topic_place"
        if self.topic:
            return "topic"
        if self.place:
            return "place"
        return "none"


@dataclass
class SearchResult:
    entry: EntryRecord
    score: float
    reason: str
    level: str | None = None
    place: str | None = None


@dataclass
class SearchOutcome:
    query: ParsedQuery
    results: list[SearchResult]

    @property
    def ambiguous(self) -> bool:
        """A place read two ways is asked back, unless the question is not for the
        directory anyway ("météo Limburg")."""
        return bool(self.query.place and self.query.place.ambiguous
                    and not self.query.not_a_directory_question)

    @property
    def readings(self) -> tuple[str, ...]:
        return self.query.place.codes if self.query.place else ()

    @property
    def not_a_directory_question(self) -> bool:
        return self.query.not_a_directory_question


class DirectoryIndex:
    """Built once from the directory's records; `search` answers queries in memory."""

    def __init__(self, records: list[EntryRecord], gazetteer: Gazetteer, vocabulary: Vocabulary):
        self.gazetteer = gazetteer
        self.vocabulary = vocabulary
        self.by_id: dict[str, EntryRecord] = {r.id: r for r in records}
        self.entries: list[EntryRecord] = [r for r in records if r.is_active]
        self._by_topic_area: dict[tuple[str, str], list[int]] = defaultdict(list)
        self._by_topic_width: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
        self._by_area: dict[str, list[int]] = defaultdict(list)
        self._includes: list[tuple[str, ...]] = []
        self._excludes: list[tuple[str, ...]] = []
        self._blobs: list[str] = []
        self._variants_cache: dict[int, list[tuple[frozenset, frozenset, bool]]] = {}
        self._coverage_cache: dict[str, frozenset[str]] = {}
        name_postings: dict[str, list[int]] = defaultdict(list)
        directory_words: set[str] = set()
        self._label_parts = _label_parts(vocabulary)
        # Per entry, the specific service concepts it carries (contract rule 2), shared
        # between entries: few distinct ones exist.
        concepts_seen: dict[tuple, tuple] = {}
        concept_sets: dict[tuple, tuple] = {}
        self._entry_concept_list: list[tuple] = []
        for idx, entry in enumerate(self.entries):
            self._index_entry(idx, entry, name_postings, directory_words)
            carried = tuple(sorted(concepts_seen.setdefault(c, c)
                                   for c in self._entry_concepts(entry)))
            self._entry_concept_list.append(concept_sets.setdefault(carried, carried))
        self._name_postings = {word: array("i", ids) for word, ids in name_postings.items()}
        self._known_concepts = set(concepts_seen)
        self._concept_tokens = max((len(c[-1].split()) if c[0] == "kw" else 4
                                    for c in self._known_concepts), default=1)
        self._named_entries = max(1, len(self.entries))
        self._static = _static_spelling(gazetteer, vocabulary)
        self._known = self._static.known | directory_words
        self._directory_fixes = _delete_index(w for w in directory_words
                                              if len(w) >= MIN_FUZZY_LENGTH - 1
                                              and w not in self._static.known)

    # ---- building ------------------------------------------------------------------------
    def _index_entry(self, idx: int, entry: EntryRecord, name_postings, directory_words) -> None:
        gaz = self.gazetteer
        includes = tuple(c for c in (gaz.canonical(x) for x in entry.includes) if c)
        excludes = tuple(c for c in (gaz.canonical(x) for x in entry.excludes) if c)
        self._includes.append(includes)
        self._excludes.append(excludes)
        width = max((gaz.area(c).rank for c in includes), default=0)
        for topic in entry.topics:
            for code in includes:
                self._by_topic_area[(topic, code)].append(idx)
            self._by_topic_width[topic][width].append(idx)
        for code in includes:
            self._by_area[code].append(idx)
        words = tokens(" ".join((entry.service, " ".join(entry.keywords),
                                 " ".join(self._names(entry)))))
        self._blobs.append(" " + " ".join(dict.fromkeys(words)) + " ")
        directory_words.update(words)
        stop = self.vocabulary.stopwords
        for word in set(tokens(" ".join(self._names(entry)))):
            if word not in stop:
                name_postings[word].append(idx)

    @staticmethod
    def _names(entry: EntryRecord) -> list[str]:
        names = [entry.organisation, *entry.organisation_names.values()]
        if entry.acronym:
            names.append(entry.acronym)
        names.extend(k for k in entry.keywords if _looks_like_a_name(k))
        # "Ulysse, service de santé mentale": the part before the comma is the name proper.
        names.extend(n.split(",", 1)[0] for n in list(names) if "," in n)
        return list(dict.fromkeys(n.strip() for n in names if n.strip()))

    def _concept(self, key: str) -> tuple | None:
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

    def _entry_concepts(self, entry: EntryRecord) -> set[tuple]:
        found = set()
        for keyword in entry.keywords:
            key = phrase(keyword)
            if key not in self.vocabulary.service_words and (
                    _looks_like_a_name(keyword) or self.gazetteer.lookup(key) is not None):
                continue  # names answer by contract rule 1, places by coverage ("FLE" is a service)
            concept = self._concept(key)
            if concept is not None:
                found.add(concept)
        return found

    def _variants(self, idx: int) -> list[tuple[frozenset, frozenset, bool]]:
        """Per name of the entry: its distinctive words, all its words, whether it is a full
        organisation name (not a keyword). Computed on demand and kept."""
        cached = self._variants_cache.get(idx)
        if cached is not None:
            return cached
        entry = self.entries[idx]
        full_names = {entry.organisation, *entry.organisation_names.values()}
        variants = []
        for name in self._names(entry):
            words = [w for w in tokens(name) if w not in self.vocabulary.stopwords]
            if not words:
                continue
            placeless = self._without_places(words)
            distinctive = frozenset(w for w in placeless if w not in self.vocabulary.generic)
            variants.append((distinctive, frozenset(words), name in full_names))
        if len(self._variants_cache) > 200_000:
            self._variants_cache.clear()
        self._variants_cache[idx] = variants
        return variants

    def _without_places(self, words: list[str]) -> list[str]:
        spans = self._spans(words, set())
        placed = {i for s in spans if s.place for i in range(s.start, s.end)}
        return [w for i, w in enumerate(words) if i not in placed]

    # ---- parsing -------------------------------------------------------------------------
    def parse(self, text: str, language: str | None = None) -> ParsedQuery:
        words = self._cyrillic_places(tokens(text))
        typed = list(words)
        corrections: dict[str, str] = {}
        fuzzy_positions: set[int] = set()
        for i, word in enumerate(words):
            if MIN_PLACE_TYPO_LENGTH <= len(word) <= MAX_TYPO_LENGTH and not word.isdecimal() \
                    and word not in self._known:
                fix = self._correct(word)
                if fix:
                    corrections[word] = fix
                    words[i] = fix
                    fuzzy_positions.add(i)
        spans = self._spans(words, fuzzy_positions)
        query = ParsedQuery(text=text, tokens=words, corrections=corrections)
        place_span = self._choose_place(spans)
        topic_spans = [s for s in spans if s.topics and s is not place_span]
        exact_topics = [s for s in topic_spans if not s.fuzzy]
        topic_spans = exact_topics or topic_spans
        weights: dict[str, float] = {}
        last_seen: dict[str, int] = {}
        for span in topic_spans:
            # The asker's situation ("tijdelijke bescherming") says less than their need.
            damp = 0.5 if " ".join(words[span.start:span.end]) in self.vocabulary.context else 1.0
            for topic in {t.topic for t in span.topics}:
                best = max(t.weight for t in span.topics if t.topic == topic)
                weights[topic] = weights.get(topic, 0.0) + best * damp
                last_seen[topic] = span.start
        if weights:
            query.topic = max(weights, key=lambda t: (weights[t], last_seen[t]))
            query.topic_weights = weights
        if place_span is not None:
            query.place = place_span.place
            query.place_words = " ".join(words[place_span.start:place_span.end])
        consumed_by_place = {i for i in range(place_span.start, place_span.end)} if place_span else set()
        consumed_by_topic = {i for s in topic_spans for i in range(s.start, s.end)}
        stop = self.vocabulary.stopwords
        query.text_tokens = tuple(dict.fromkeys(
            w for i, w in enumerate(words) if i not in consumed_by_place and w not in stop))
        query.detected_language = self._language(text, words, topic_spans)
        query.language = query.detected_language or language
        query.organisations = self._organisations(words, consumed_by_place | consumed_by_topic)
        query.concepts = self._query_concepts(words, consumed_by_place)
        query.not_a_directory_question = self._not_a_question(query, words, consumed_by_place)
        if place_span is not None and not (query.topic or query.organisations) and any(
                i in fuzzy_positions and len(typed[i]) < MIN_FUZZY_LENGTH
                for i in range(place_span.start, place_span.end)):
            # A short word read as a place only after correction ("laat" → Laar) is no
            # question on its own: such a guess needs a topic or an organisation beside it.
            query.not_a_directory_question = True
        return query

    def _query_concepts(self, words: list[str], skip: set[int]) -> frozenset:
        found = set()
        for size in range(1, self._concept_tokens + 1):
            for start in range(0, len(words) - size + 1):
                if any(i in skip for i in range(start, start + size)):
                    continue
                concept = self._concept(" ".join(words[start:start + size]))
                if concept in self._known_concepts:
                    found.add(concept)
        return frozenset(found)

    def _not_a_question(self, query: ParsedQuery, words: list[str], placed: set[int]) -> bool:
        """Contract rule 5. A place alone asks for its general entries; a place with words
        that name no topic, service or organisation ("météo Namur") is not a question for
        the directory, nor is anything without a topic, place or organisation."""
        if query.topic or query.organisations:
            return False
        if not query.place:
            return bool(words)
        vocab = self.vocabulary
        return any(i not in placed and not w.isdecimal() and len(w) > 1
                   and w not in vocab.stopwords and w not in vocab.generic
                   and self.gazetteer.lookup(w) is None  # the place said twice ("Льєж Liège")
                   for i, w in enumerate(words))

    def _spans(self, words: list[str], fuzzy_positions: set[int]) -> list[Span]:
        gaz, vocab = self.gazetteer, self.vocabulary
        longest = max(gaz.max_name_tokens, vocab.max_phrase_tokens)
        spans: list[Span] = []
        i = 0
        while i < len(words):
            found = None
            for size in range(min(longest, len(words) - i), 0, -1):
                key = " ".join(words[i:i + size])
                place = None
                if size > 1 or (len(key) > 2 and key not in vocab.stopwords) or key.isdecimal():
                    place = gaz.lookup(key)
                topics = vocab.phrases.get(key, [])
                if place or topics:
                    found = (size, place, topics)
                    break
            if found is None:
                stems = vocab.stem_match(words[i]) if len(words[i]) > 3 else []
                if stems:
                    spans.append(Span(i, i + 1, None, stems, i in fuzzy_positions))
                i += 1
                continue
            size, place, topics = found
            fuzzy = any(p in fuzzy_positions for p in range(i, i + size))
            spans.append(Span(i, i + size, place, list(topics), fuzzy))
            i += size
        return spans

    @staticmethod
    def _choose_place(spans: list[Span]) -> Span | None:
        places = [s for s in spans if s.place]
        if not places:
            return None
        # A word that is both a topic and a place is the place only when no other place is named.
        plain = [s for s in places if not s.topics] or places
        exact = [s for s in plain if not s.fuzzy] or plain
        return min(exact, key=lambda s: (s.place.priority, -(s.end - s.start), -s.start))

    def _language(self, text: str, words: list[str], topic_spans: list[Span]) -> str | None:
        if is_cyrillic(text):
            return "uk"
        votes: dict[str, float] = defaultdict(float)
        for span in topic_spans:
            langs = {t.lang for t in span.topics}
            if len(langs) == 1:
                votes[next(iter(langs))] += 1.0
        for word in words:
            langs = self.vocabulary.stopwords.get(word) or self.vocabulary.offtopic.get(word)
            if langs and len(langs) == 1:
                votes[next(iter(langs))] += 0.5
        if not votes:
            return None
        ranked = sorted(votes.items(), key=lambda kv: -kv[1])
        if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
            return None
        return ranked[0][0]

    def _cyrillic_places(self, words: list[str]) -> list[str]:
        """Cyrillic words no vocabulary knows that sound like a Belgian place ("Льєжі",
        "Сінт-Ніклас") are replaced by the gazetteer's name of that place."""
        if not any(is_cyrillic(w) for w in words):
            return words
        out: list[str] = []
        i = 0
        budget = MAX_SOUND_SEARCHES  # a long message of unknown words costs a bounded time
        while i < len(words):
            for size in range(min(3, len(words) - i), 0, -1):
                part = words[i:i + size]
                if self._names_something(part[0]) or self._names_something(part[-1]) \
                        or not all(is_cyrillic(w) and len(w) <= MAX_TYPO_LENGTH for w in part):
                    continue
                budget -= 1
                name = self.gazetteer.cyrillic_place(part, approximate=budget >= 0)
                if name:
                    out.extend(name.split())
                    i += size
                    break
            else:
                out.append(words[i])
                i += 1
        return out

    def _names_something(self, word: str) -> bool:
        vocab = self.vocabulary
        return (word in self._known or word in vocab.offtopic or len(word) < 2
                or bool(vocab.stem_match(word)) or self.gazetteer.lookup(word) is not None)

    def _correct(self, word: str) -> str | None:
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
        best = None
        for candidate in bucket:
            if abs(len(candidate) - len(word)) > 2:
                continue
            distance = OSA.distance(word, candidate, score_cutoff=2)
            key = (distance, self._static.place_tokens[candidate], candidate)
            if distance <= 2 and (best is None or key < best):
                best = key
        return best[-1] if best else None

    def _organisations(self, words: list[str], consumed: set[int]) -> dict[int, float]:
        stop = self.vocabulary.stopwords
        query_words = {w for w in words if w not in stop}
        free = {w for i, w in enumerate(words) if i not in consumed and w not in stop}
        candidates: set[int] = set()
        # Only words that name neither the topic nor the place can point at an organisation;
        # "CPAS Charleroi" is answered by the topic and the place.
        for word in free:
            posting = self._name_postings.get(word)
            if posting is not None and len(posting) <= POSTING_CAP:
                candidates.update(posting)
        found: dict[int, float] = {}
        for idx in candidates:
            best = 0.0
            for distinctive, all_words, is_full_name in self._variants(idx):
                if is_full_name and len(all_words) >= 2 and all_words <= query_words:
                    best = 1.0
                    break
                if not distinctive:
                    continue
                matched = distinctive & query_words
                if matched & free:
                    best = max(best, self._weight(matched) / self._weight(distinctive))
            if best >= MIN_ORG_SCORE:
                found[idx] = best
        if len(found) > MAX_ORGANISATIONS:
            kept = heapq.nlargest(MAX_ORGANISATIONS, found.items(), key=lambda kv: (kv[1], -kv[0]))
            found = dict(kept)
        return found

    def _weight(self, words: frozenset[str]) -> float:
        """Rare words say more about which organisation is meant than common ones."""
        total = 0.0
        for word in words:
            posting = self._name_postings.get(word)
            frequency = len(posting) if posting is not None else 1
            total += math.log(1.0 + self._named_entries / frequency)
        return total

    # ---- ranking -------------------------------------------------------------------------
    def search(self, text: str, limit: int = 5, language: str | None = None,
               offset: int = 0, place: str | None = None) -> SearchOutcome:
        """`place` settles an ambiguous place (the chat asked back which one was meant)."""
        query = self.parse(text, language)
        if place and place in self.gazetteer.areas:
            query.place = PlaceReading((place,), MUNICIPALITY_NAME)
            query.organisations = {i: s for i, s in query.organisations.items()
                                   if self._level_for_place(i, query)[0] is not None}
        wanted = limit + offset
        results: list[SearchResult] = []
        if query.not_a_directory_question:
            return SearchOutcome(query, [])
        if query.organisations:
            results = self._rank_organisations(query)
        if len(results) < wanted:
            seen = {r.entry.id for r in results}
            more = self._rank_needs(query, wanted)
            results.extend(r for r in more if r.entry.id not in seen)
        return SearchOutcome(query, results[offset:wanted])

    def _rank_needs(self, query: ParsedQuery, wanted: int) -> list[SearchResult]:
        if query.topic and query.place:
            return self._merge_readings(query, wanted, self._topic_place)
        if query.topic:
            return self._topic_only(query, wanted)
        if query.place and not query.organisations:
            return self._merge_readings(query, wanted, self._place_only)
        return []

    def _merge_readings(self, query: ParsedQuery, wanted: int, rank) -> list[SearchResult]:
        keyed: dict[str, tuple] = {}
        for code in query.place.codes:
            for key, result in rank(query, code, wanted):
                current = keyed.get(result.entry.id)
                if current is None or key < current[0]:
                    keyed[result.entry.id] = (key, result)
        return [r for _, r in sorted(keyed.values(), key=lambda kr: kr[0])][:wanted]

    def _covering(self, code: str, wanted: int, postings) -> list[tuple[int, int]]:
        """(rank, entry) of the entries covering `code` among `postings(area)`, most local
        first, stopping after the level where `wanted` entries are reached."""
        found: list[tuple[int, int]] = []
        seen: set[int] = set()
        current_rank = None
        for area, rank in self.gazetteer.containing(code):
            if current_rank is not None and rank != current_rank and len(found) >= wanted:
                break
            current_rank = rank
            for idx in postings(area):
                if idx in seen:
                    continue
                seen.add(idx)
                if not self._excluded(idx, code):
                    found.append((rank, idx))
        return found

    def _excluded(self, idx: int, code: str) -> bool:
        return any(self.gazetteer.overlaps(x, code) for x in self._excludes[idx])

    def _topic_place(self, query: ParsedQuery, code: str, wanted: int):
        topic = query.topic
        found = self._covering(code, wanted, lambda area: self._by_topic_area.get((topic, area), ()))
        carriers: set[int] = set()
        if query.concepts:
            # The carriers among the topic's entries covering the place, most local first.
            carried = self._covering(code, wanted, lambda area: [
                i for i in self._by_topic_area.get((topic, area), ()) if self._carries(i, query)])
            carriers = {idx for _rank, idx in carried}
            seen = {idx for _rank, idx in found}
            found.extend(item for item in carried if item[1] not in seen)
        for rank, idx in found:
            # Contract rule 2: entries carrying the query's specific service word first.
            specific = idx in carriers
            key = (not specific, rank, self._language_rank(idx, query),
                   -self._text_score(idx, query), idx)
            score = 0.9 - 0.1 * rank + 0.05 * (key[2] == 0) + 0.05 * min(1.0, -key[3] / 3)
            score = 0.95 + 0.05 * (1 - rank / 4) if specific else min(score, 0.94)
            yield key, SearchResult(self.entries[idx], round(score, 3), "topic_place",
                                    RANK_LEVEL[rank], code)

    def _carries(self, idx: int, query: ParsedQuery) -> bool:
        """Whether the entry carries one of the query's specific service words."""
        return bool(query.concepts) and any(c in query.concepts
                                             for c in self._entry_concept_list[idx])

    def _place_only(self, query: ParsedQuery, code: str, wanted: int):
        found = self._covering(code, wanted, lambda area: self._by_area.get(area, ()))
        # A place alone asks for what is local to it: up to its arrondissement, or the
        # province itself when a province was named ("Limburg", read as the province).
        local = max(LEVEL_RANK["arrondissement"], self.gazetteer.area(code).rank)
        for rank, idx in found:
            if rank > local:
                continue
            key = (rank, self._language_rank(idx, query), -self._text_score(idx, query), idx)
            yield key, SearchResult(self.entries[idx], round(0.5 - 0.1 * rank, 3), "place",
                                    RANK_LEVEL[rank], code)

    def _topic_only(self, query: ParsedQuery, wanted: int) -> list[SearchResult]:
        widths = self._by_topic_width.get(query.topic, {})
        ranked: list[tuple[tuple, int, int]] = []
        for width in sorted(widths, reverse=True):
            for idx in widths[width]:
                key = (-width, not self._carries(idx, query), self._language_rank(idx, query),
                       -self._text_score(idx, query), idx)
                ranked.append((key, width, idx))
            if len(ranked) >= wanted:
                break
        ranked.sort(key=lambda item: item[0])
        return [SearchResult(self.entries[idx], round(0.6 + 0.05 * width, 3), "topic",
                             RANK_LEVEL[width]) for _, width, idx in ranked[:wanted]]

    def _rank_organisations(self, query: ParsedQuery) -> list[SearchResult]:
        ranked = []
        for idx, org_score in self._with_sisters(query).items():
            level, place = self._level_for_place(idx, query)
            has_topic = query.topic in self.entries[idx].topics if query.topic else True
            key = (level is None, level if level is not None else 9, not has_topic, -org_score,
                   self._language_rank(idx, query), -self._text_score(idx, query), idx)
            score = 0.8 + 0.2 * org_score - (0.1 if level is None and query.place else 0)
            ranked.append((key, SearchResult(self.entries[idx], round(score, 3), "organisation",
                                             RANK_LEVEL.get(level) if level is not None else None,
                                             place)))
        ranked.sort(key=lambda kr: kr[0])
        return [r for _, r in ranked]

    def _with_sisters(self, query: ParsedQuery) -> dict[int, float]:
        """"Croix-Rouge Gand": the organisation named does not cover the place, its sister
        (another entry sharing a multi-word name, here "Red Cross") does — both answer, the
        one covering the place first."""
        found = dict(query.organisations)
        if not query.place or any(self._level_for_place(idx, query)[0] is not None
                                  for idx in found):
            return found
        best = heapq.nlargest(MAX_SISTER_SOURCES, found.items(), key=lambda kv: (kv[1], -kv[0]))
        for idx, score in best:
            for name in self._names(self.entries[idx]):
                for sister in self._sharing_name(name):
                    if sister not in found and self._level_for_place(sister, query)[0] is not None:
                        found[sister] = score
        return found

    def _sharing_name(self, name: str) -> list[int]:
        """Entries that also carry this multi-word name, found through the postings of its
        rarest word (looked up only when an organisation named misses the place)."""
        words = [w for w in tokens(name) if w not in self.vocabulary.stopwords]
        if len(words) < 2:
            return []
        postings = [self._name_postings.get(w) for w in words]
        if any(p is None for p in postings):
            return []
        rarest = min(postings, key=len)
        if len(rarest) > MAX_ORGANISATIONS:
            return []
        key = phrase(name)
        return [i for i in rarest
                if any(phrase(n) == key for n in self._names(self.entries[i]))]

    def _level_for_place(self, idx: int, query: ParsedQuery) -> tuple[int | None, str | None]:
        if not query.place:
            return None, None
        best: tuple[int | None, str | None] = (None, None)
        includes = set(self._includes[idx])
        for code in query.place.codes:
            if self._excluded(idx, code):
                continue
            for area, rank in self.gazetteer.containing(code):
                if area in includes:
                    if best[0] is None or rank < best[0]:
                        best = (rank, code)
                    break
        return best

    def _language_rank(self, idx: int, query: ParsedQuery) -> int:
        if not query.language:
            return 0
        return 0 if query.language in self.entries[idx].languages else 1

    def _text_score(self, idx: int, query: ParsedQuery) -> int:
        blob = self._blobs[idx]
        return sum(1 for word in query.text_tokens if f" {word} " in blob)

    # ---- organisations by name, for audiences ----------------------------------------------
    def entries_named(self, text: str) -> list[EntryRecord]:
        """Entries whose organisation `text` names as people write it ("CPAS de Mons", "OCMW
        Aalst", "Fedasil"): every word that is not a place is a word of one of the entry's
        names (organisation names, acronym), and every place named is either in that name too
        or holds the entry's whole coverage ("CPAS Luik" is the CPAS of Liège)."""
        stop = self.vocabulary.stopwords
        words = [w for w in tokens(text) if w not in stop]
        spans = [s for s in self._spans(words, set()) if s.place]
        placed = {i for s in spans for i in range(s.start, s.end)}
        others = {w for i, w in enumerate(words) if i not in placed}
        postings = [self._name_postings.get(w) for w in others]
        if not others or any(p is None for p in postings):
            return []
        found, exact = [], []
        for idx in min(postings, key=len):
            names = self._name_words(idx)
            if others <= names and all(self._place_fits(idx, names, words[s.start:s.end], s)
                                       for s in spans):
                found.append(self.entries[idx])
                if self._exact_name(idx, set(words)):
                    exact.append(self.entries[idx])
        # "CPAS de Liège" is the CPAS named so, not also "CPAS Saint-Nicolas (Liège)".
        return exact or found

    def exact_name(self, entry: EntryRecord, text: str) -> str | None:
        """The entry's name that `text` writes in full ("Fedasil" for both Fedasil entries,
        whatever their longer names), or None."""
        stop = self.vocabulary.stopwords
        positions = self.__dict__.get("_positions")
        if positions is None:
            positions = self.__dict__["_positions"] = {e.id: i for i, e in enumerate(self.entries)}
        idx = positions.get(entry.id)
        return self._exact_name(idx, {w for w in tokens(text) if w not in stop}) \
            if idx is not None else None

    def _exact_name(self, idx: int, wanted: set[str]) -> str | None:
        entry, stop = self.entries[idx], self.vocabulary.stopwords
        for name in (entry.organisation, entry.acronym, *entry.organisation_names.values()):
            if name and {w for w in tokens(name) if w not in stop} == wanted:
                return name
        return None

    def _name_words(self, idx: int) -> frozenset[str]:
        cache = self.__dict__.setdefault("_name_words_cache", {})
        found = cache.get(idx)
        if found is None:
            entry = self.entries[idx]
            found = cache[idx] = frozenset(tokens(" ".join(
                [entry.organisation, entry.acronym, *entry.organisation_names.values()])))
        return found

    def _place_fits(self, idx: int, names: frozenset[str], words: list[str], span: Span) -> bool:
        if all(w in names for w in words):
            return True
        covered = self.municipalities_of(self.entries[idx].id)
        return bool(covered) and any(covered <= self.gazetteer.area(code).municipalities
                                     for code in span.place.codes)

    # ---- helpers for callers -------------------------------------------------------------
    def get(self, entry_id: str) -> EntryRecord | None:
        return self.by_id.get(entry_id)

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
            included = set().union(*(gaz.area(c).municipalities for c in
                                     (gaz.canonical(x) for x in record.includes) if c))
            excluded = set().union(*(gaz.area(c).municipalities for c in
                                     (gaz.canonical(x) for x in record.excludes) if c))
            found = frozenset(included - excluded)
        self._coverage_cache[entry_id] = found
        return found

    def __len__(self) -> int:
        return len(self.by_id)


def _label_parts(vocabulary: Vocabulary) -> dict[str, tuple[str, int]]:
    cache = vocabulary.__dict__.setdefault("_label_parts_cache", {})
    if "parts" not in cache:
        cache["parts"] = vocabulary.label_phrases()
    return cache["parts"]


def _looks_like_a_name(keyword: str) -> bool:
    """"RIZIV", "Kind en Gezin", "Red Cross" name an organisation; "leefloon" does not."""
    if _UPPER_RUN.search(keyword):
        return True
    words = keyword.split()
    return len(words) >= 2 and sum(1 for w in words if w[:1].isupper()) >= 2


@dataclass
class _StaticSpelling:
    known: set[str]
    fixes: dict[str, list[str]]
    # word of a place name → how sure a place it names (the gazetteer's priorities: the
    # words of municipality names first, so that a typo becomes a municipality)
    place_tokens: dict[str, int] = field(default_factory=dict)
    long_places: dict[str, list[str]] = field(default_factory=dict)


def _static_spelling(gazetteer: Gazetteer, vocabulary: Vocabulary) -> _StaticSpelling:
    """Known words and the spelling-correction table of the gazetteer and vocabulary; the same
    for every rebuild of the index, so computed once and kept on the vocabulary (with the
    gazetteer it was computed for)."""
    cache = vocabulary.__dict__.setdefault("_spelling", {})
    found = cache.get(id(gazetteer))
    cached = found[1] if found and found[0] is gazetteer else None
    if cached is None:
        places: dict[str, int] = {}
        for key, by_priority in gazetteer.names.items():
            for w in key.split():
                if not w.isdecimal():
                    places[w] = min(places.get(w, 9), min(by_priority))
        targets = set(places) | vocabulary.words()
        known = (targets | set(vocabulary.stopwords) | vocabulary.generic
                 | set(vocabulary.offtopic)
                 | {w for key in vocabulary.context for w in key.split()})
        fixes = _delete_index(w for w in targets if len(w) >= MIN_PLACE_TYPO_LENGTH
                              and not w.isdecimal())
        long_places: dict[str, list[str]] = defaultdict(list)
        for word in sorted(places):
            if len(word) >= 7:
                long_places[word[0]].append(word)
        cached = _StaticSpelling(known, fixes, places, dict(long_places))
        cache[id(gazetteer)] = (gazetteer, cached)
    return cached


def _delete_index(words) -> dict[str, list[str]]:
    index: dict[str, list[str]] = defaultdict(list)
    for word in words:
        index[word].append(word)
        for variant in deletes(word):
            index[variant].append(word)
    return dict(index)
