"""Place resolution: a query's words read as places and topics (`Span`s), the place the
question is about, and Cyrillic spellings of Belgian places."""
from __future__ import annotations

from bot.directory.gazetteer import Gazetteer, PlaceReading
from bot.directory.query import Span
from bot.directory.spelling import MAX_TYPO_LENGTH, Spelling
from bot.directory.text import is_cyrillic
from bot.directory.vocabulary import TopicTerm, Vocabulary

MAX_SOUND_SEARCHES = 12     # Cyrillic words looked up by approximate sound, per query


class PhraseReader:
    def __init__(self, gazetteer: Gazetteer, vocabulary: Vocabulary, spelling: Spelling) -> None:
        self.gazetteer = gazetteer
        self.vocabulary = vocabulary
        self.spelling = spelling

    def spans(self, words: list[str], fuzzy_positions: set[int]) -> list[Span]:
        """The longest phrases naming a place or topics, left to right; a word that names
        neither can still match a topic by its stem."""
        longest = max(self.gazetteer.max_name_tokens, self.vocabulary.max_phrase_tokens)
        spans: list[Span] = []
        i = 0
        while i < len(words):
            found = self._phrase_at(words, i, longest)
            if found is None:
                stems = self.vocabulary.stem_match(words[i]) if len(words[i]) > 3 else []
                if stems:
                    spans.append(Span(i, i + 1, None, stems, i in fuzzy_positions))
                i += 1
                continue
            size, place, topics = found
            fuzzy = any(p in fuzzy_positions for p in range(i, i + size))
            spans.append(Span(i, i + size, place, list(topics), fuzzy))
            i += size
        return spans

    def _phrase_at(self, words: list[str], i: int, longest: int
                   ) -> tuple[int, PlaceReading | None, list[TopicTerm]] | None:
        gaz, vocab = self.gazetteer, self.vocabulary
        for size in range(min(longest, len(words) - i), 0, -1):
            key = " ".join(words[i:i + size])
            place = None
            if size > 1 or (len(key) > 2 and key not in vocab.stopwords) or key.isdecimal():
                place = gaz.lookup(key)
            topics = vocab.phrases.get(key, [])
            if place or topics:
                return size, place, topics
        return None

    @staticmethod
    def choose_place(spans: list[Span]) -> Span | None:
        places = [s for s in spans if s.place]
        if not places:
            return None
        # A word that is both a topic and a place is the place only when no other place is named.
        plain = [s for s in places if not s.topics] or places
        exact = [s for s in plain if not s.fuzzy] or plain
        return min(exact, key=lambda s: (s.place.priority if s.place else 9,
                                         -(s.end - s.start), -s.start))

    def without_places(self, words: list[str]) -> list[str]:
        spans = self.spans(words, set())
        placed = {i for s in spans if s.place for i in range(s.start, s.end)}
        return [w for i, w in enumerate(words) if i not in placed]

    def cyrillic_places(self, words: list[str]) -> list[str]:
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
                if not self._may_sound_like_a_place(part):
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

    def _may_sound_like_a_place(self, part: list[str]) -> bool:
        return not (self._names_something(part[0]) or self._names_something(part[-1])) \
            and all(is_cyrillic(w) and len(w) <= MAX_TYPO_LENGTH for w in part)

    def _names_something(self, word: str) -> bool:
        vocab = self.vocabulary
        return (word in self.spelling.known or word in vocab.offtopic or len(word) < 2
                or bool(vocab.stem_match(word)) or self.gazetteer.lookup(word) is not None)
