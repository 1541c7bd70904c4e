"""Query parsing: a question read once against the gazetteer, the topic vocabulary and the
organisation names (typo-tolerant, accent- and case-insensitive) into a `ParsedQuery`."""
from __future__ import annotations

from collections import defaultdict

from bot.directory.entry_table import EntryTable
from bot.directory.organisations import OrganisationMatcher
from bot.directory.phrases import PhraseReader
from bot.directory.query import Concept, ParsedQuery, Span
from bot.directory.spelling import MIN_FUZZY_LENGTH, Spelling
from bot.directory.text import is_cyrillic, tokens


class QueryParser:
    def __init__(self, table: EntryTable, reader: PhraseReader, spelling: Spelling,
                 organisations: OrganisationMatcher) -> None:
        self.table = table
        self.reader = reader
        self.spelling = spelling
        self.organisations = organisations
        self.gazetteer = table.gazetteer
        self.vocabulary = table.vocabulary

    def parse(self, text: str, language: str | None = None) -> ParsedQuery:
        words = self.reader.cyrillic_places(tokens(text))
        typed = list(words)
        corrections, fuzzy_positions = self._correct(words)
        spans = self.reader.spans(words, fuzzy_positions)
        query = ParsedQuery(text=text, tokens=words, corrections=corrections)
        place_span = self.reader.choose_place(spans)
        topic_spans = [s for s in spans if s.topics and s is not place_span]
        topic_spans = [s for s in topic_spans if not s.fuzzy] or topic_spans
        self._read_topic(query, words, topic_spans)
        consumed_by_place: set[int] = set()
        if place_span is not None:
            query.place = place_span.place
            query.place_words = " ".join(words[place_span.start:place_span.end])
            consumed_by_place = set(range(place_span.start, place_span.end))
        consumed_by_topic = {i for s in topic_spans for i in range(s.start, s.end)}
        stop = self.vocabulary.stopwords
        query.text_tokens = tuple(dict.fromkeys(
            w for i, w in enumerate(words) if i not in consumed_by_place and w not in stop))
        query.detected_language = self._language(text, words, topic_spans)
        query.language = query.detected_language or language
        query.organisations = self.organisations.named_in(
            words, consumed_by_place | consumed_by_topic)
        query.concepts = self._query_concepts(words, consumed_by_place)
        query.not_a_directory_question = (
            self._not_a_question(query, words, consumed_by_place)
            or self._corrected_place_alone(query, place_span, typed, fuzzy_positions))
        return query

    def _correct(self, words: list[str]) -> tuple[dict[str, str], set[int]]:
        """Corrects misspelt words in place; returns the corrections and their positions."""
        corrections: dict[str, str] = {}
        fuzzy_positions: set[int] = set()
        for i, word in enumerate(words):
            if self.spelling.needs_correction(word):
                fix = self.spelling.correct(word)
                if fix:
                    corrections[word] = fix
                    words[i] = fix
                    fuzzy_positions.add(i)
        return corrections, fuzzy_positions

    def _read_topic(self, query: ParsedQuery, words: list[str], topic_spans: list[Span]) -> None:
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

    @staticmethod
    def _corrected_place_alone(query: ParsedQuery, place_span: Span | None, typed: list[str],
                               fuzzy_positions: set[int]) -> bool:
        """A short word read as a place only after correction ("laat" → Laar) is no question
        on its own: such a guess needs a topic or an organisation beside it."""
        if place_span is None or query.topic or query.organisations:
            return False
        return any(i in fuzzy_positions and len(typed[i]) < MIN_FUZZY_LENGTH
                   for i in range(place_span.start, place_span.end))

    def _query_concepts(self, words: list[str], skip: set[int]) -> frozenset[Concept]:
        found = set()
        known = self.table.known_concepts
        for size in range(1, self.table.concept_tokens + 1):
            for start in range(0, len(words) - size + 1):
                if any(i in skip for i in range(start, start + size)):
                    continue
                concept = self.table.concept(" ".join(words[start:start + size]))
                if concept in known:
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

    def _language(self, text: str, words: list[str], topic_spans: list[Span]) -> str | None:
        if is_cyrillic(text):
            return "uk"
        votes: dict[str, float] = defaultdict(float)
        for span in topic_spans:
            langs = {t.lang for t in span.topics}
            if len(langs) == 1:
                votes[next(iter(langs))] += 1.0
        for word in words:
            word_langs = self.vocabulary.stopwords.get(word) or self.vocabulary.offtopic.get(word)
            if word_langs and len(word_langs) == 1:
                votes[next(iter(word_langs))] += 0.5
        if not votes:
            return None
        ranked = sorted(votes.items(), key=lambda kv: -kv[1])
        if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
            return None
        return ranked[0][0]
