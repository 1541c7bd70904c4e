"""What a search reads from a question (`ParsedQuery`) and what it answers (`SearchOutcome`):
plain values shared by the parser, the ranking and the chat."""
from __future__ import annotations

from dataclasses import dataclass, field

from bot.directory.gazetteer import PlaceReading
from bot.directory.records import EntryRecord
from bot.directory.vocabulary import TopicTerm

RANK_LEVEL = {0: "municipality", 1: "arrondissement", 2: "province", 3: "region", 4: "country"}

# A specific service a phrase names (contract rule 2): ("service", id), ("label", topic,
# part number) or ("kw", phrase).
Concept = tuple[str | int, ...]


@dataclass
class Span:
    """Words `start:end` of a query read as a place, topics, or both."""

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
    concepts: frozenset[Concept] = frozenset()
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
