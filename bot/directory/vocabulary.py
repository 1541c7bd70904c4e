"""Topic words, jargon and stop words per language, read from `data/topics.csv` and
`data/vocabulary/` so that they can be improved without touching code."""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from bot.directory.text import phrase

LANGUAGES = ("fr", "nl", "de", "en", "uk")
# "and" between the parts of a topic label, in the five languages
_LABEL_SPLIT = re.compile(r"\s+(?:and|et|en|und|та|і|й)\s+")


@dataclass(frozen=True)
class TopicTerm:
    topic: str
    lang: str
    weight: float


@dataclass
class Vocabulary:
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    phrases: dict[str, list[TopicTerm]] = field(default_factory=dict)
    stems: dict[str, list[TopicTerm]] = field(default_factory=dict)
    stopwords: dict[str, set[str]] = field(default_factory=dict)
    generic: set[str] = field(default_factory=set)
    # Words naming things outside the directory's remit (weather, football…), per language:
    # they name no service, and they tell which language an off-topic question is written in.
    offtopic: dict[str, set[str]] = field(default_factory=dict)
    # Phrases that describe the asker's situation, not a service ("temporary protection"):
    # they may name a topic but never count as a specific service word (contract rule 2).
    context: set[str] = field(default_factory=set)
    # Specific services named the same in every language ("train" = "trein" = "потяг"):
    # phrase → concept, so that an entry's keyword in one language matches a query in another.
    service_words: dict[str, str] = field(default_factory=dict)
    max_phrase_tokens: int = 1

    @classmethod
    def load(cls, data_dir: Path) -> Vocabulary:
        data_dir = Path(data_dir)
        vocab = cls()
        for row in _read(data_dir / "topics.csv"):
            vocab.labels[row["code"]] = {lang: row[f"label_{lang}"] for lang in LANGUAGES}
        for row in _read(data_dir / "vocabulary" / "topic_words.csv"):
            if row["topic"] not in vocab.labels:
                raise ValueError(f"topic_words.csv: unknown topic {row['topic']!r}")
            vocab.add(row["term"], TopicTerm(row["topic"], row["lang"], float(row["weight"] or 1)))
        for code, labels in vocab.labels.items():
            for lang, label in labels.items():
                vocab.add(label, TopicTerm(code, lang, 1.0))
        service_file = data_dir / "vocabulary" / "service_words.csv"
        for row in _read(service_file) if service_file.exists() else ():
            vocab.service_words[phrase(row["term"])] = row["concept"]
        for row in _read(data_dir / "vocabulary" / "stopwords.csv"):
            key = phrase(row["word"])
            if row["kind"] == "context":
                vocab.context.add(key)
                continue
            for word in key.split():
                if row["kind"] == "generic":
                    vocab.generic.add(word)
                elif row["kind"] == "offtopic":
                    vocab.offtopic.setdefault(word, set()).add(row["lang"])
                else:
                    vocab.stopwords.setdefault(word, set()).add(row["lang"])
        return vocab

    def add(self, term: str, meaning: TopicTerm) -> None:
        if term.endswith("*"):
            self.stems.setdefault(phrase(term[:-1]), []).append(meaning)
            return
        key = phrase(term)
        if key:
            self.phrases.setdefault(key, []).append(meaning)
            self.max_phrase_tokens = max(self.max_phrase_tokens, len(key.split()))

    @property
    def topic_codes(self) -> set[str]:
        return set(self.labels)

    def label(self, topic: str, lang: str = "en") -> str:
        labels = self.labels.get(topic, {})
        return labels.get(lang) or labels.get("en") or topic

    def stem_match(self, word: str) -> list[TopicTerm]:
        for size in range(len(word), 3, -1):
            found = self.stems.get(word[:size])
            if found:
                return found
        return []

    def words(self) -> set[str]:
        return {word for key in self.phrases for word in key.split()}

    def label_phrases(self) -> dict[str, tuple[str, int]]:
        """Each part of each topic label ("Health care and health insurance" → "health care",
        "health insurance") → (topic, position of the part). Part 0 names the broad topic; the
        later parts name a narrower service and mean the same in every language, so that
        "leefloon" and "revenu d'intégration" are one service (contract rule 2)."""
        found: dict[str, tuple[str, int]] = {}
        for topic, labels in self.labels.items():
            for label in labels.values():
                parts = [p for p in _LABEL_SPLIT.split(phrase(label)) if p]
                for position, part in enumerate(parts):
                    found.setdefault(part, (topic, position))
        return found


def _read(path: Path) -> list[dict[str, str]]:
    with Path(path).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))
