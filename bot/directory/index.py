"""The in-memory search index of the directory (docs: the directory contract, "Search semantics").

A query is parsed once against the gazetteer, the topic vocabulary and the organisation names
(parsing.py, with phrases.py for places and spelling.py for typos), then entries are looked up
by (topic, area) in the index structure (entry_table.py) and ranked by the contract's rules
(ranking.py). Nothing here scans the whole directory per query: the cost depends on the number
of candidate entries for the query's topic and place, not on the size of the directory."""
from __future__ import annotations

from bot.directory.entry_table import EntryTable
from bot.directory.gazetteer import MUNICIPALITY_NAME, Gazetteer, PlaceReading
from bot.directory.organisations import OrganisationMatcher
from bot.directory.parsing import QueryParser
from bot.directory.phrases import PhraseReader
from bot.directory.query import ParsedQuery, SearchOutcome, SearchResult
from bot.directory.ranking import Ranker
from bot.directory.records import EntryRecord
from bot.directory.spelling import Spelling
from bot.directory.vocabulary import Vocabulary

__all__ = ["DirectoryIndex", "ParsedQuery", "SearchOutcome", "SearchResult"]


class DirectoryIndex:
    """Built once from the directory's records; `search` answers queries in memory."""

    def __init__(self, records: list[EntryRecord], gazetteer: Gazetteer,
                 vocabulary: Vocabulary) -> None:
        self.gazetteer = gazetteer
        self.vocabulary = vocabulary
        self._table = EntryTable(records, gazetteer, vocabulary)
        spelling = Spelling(gazetteer, vocabulary, self._table.directory_words)
        reader = PhraseReader(gazetteer, vocabulary, spelling)
        self._organisations = OrganisationMatcher(self._table, reader)
        self._parser = QueryParser(self._table, reader, spelling, self._organisations)
        self._ranker = Ranker(self._table, self._organisations)

    @property
    def by_id(self) -> dict[str, EntryRecord]:
        return self._table.by_id

    @property
    def entries(self) -> list[EntryRecord]:
        """The active entries, in directory order."""
        return self._table.entries

    def parse(self, text: str, language: str | None = None) -> ParsedQuery:
        return self._parser.parse(text, language)

    def search(self, text: str, limit: int = 5, language: str | None = None,
               offset: int = 0, place: str | None = None) -> SearchOutcome:
        """`place` settles an ambiguous place (the chat asked back which one was meant)."""
        query = self._parser.parse(text, language)
        if place and place in self.gazetteer.areas:
            query.place = PlaceReading((place,), MUNICIPALITY_NAME)
            self._ranker.keep_organisations_at(query)
        if query.not_a_directory_question:
            return SearchOutcome(query, [])
        wanted = limit + offset
        results = self._ranker.rank(query, wanted)
        return SearchOutcome(query, results[offset:wanted])

    # ---- organisations by name, for audiences ----------------------------------------------
    def entries_named(self, text: str) -> list[EntryRecord]:
        """Entries whose organisation `text` names as people write it (see
        OrganisationMatcher.entries_named)."""
        return self._organisations.entries_named(text)

    def exact_name(self, entry: EntryRecord, text: str) -> str | None:
        """The entry's name that `text` writes in full, or None."""
        return self._organisations.exact_name(entry, text)

    # ---- helpers for callers -------------------------------------------------------------
    def get(self, entry_id: str) -> EntryRecord | None:
        return self._table.by_id.get(entry_id)

    def replace(self, record: EntryRecord) -> None:
        """Swaps in a newer version of an entry whose searchable fields did not change (its
        verification date after a confirmation)."""
        self._table.replace(record)

    def municipalities_of(self, entry_id: str) -> frozenset[str]:
        """The municipalities an entry covers (its codes minus its `-` exclusions); empty for
        an unknown entry."""
        return self._table.municipalities_of(entry_id)

    def __len__(self) -> int:
        return len(self._table.by_id)
