"""Scoring and ranking by the contract's rules: organisations named first, then the entries
of the query's topic covering its place, most local first. The cost depends on the number of
candidate entries for the query's topic and place, not on the size of the directory."""
from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from bot.directory.entry_table import EntryTable, names_of
from bot.directory.gazetteer import LEVEL_RANK
from bot.directory.organisations import OrganisationMatcher
from bot.directory.query import RANK_LEVEL, ParsedQuery, SearchResult

MAX_SISTER_SOURCES = 3      # best-matching organisations whose sisters are looked up

# A sort key (tuples of bools, ints and floats compared in order) and the result it ranks.
Keyed = tuple[tuple[Any, ...], SearchResult]
Postings = Callable[[str], Iterable[int]]
PlaceRanking = Callable[[ParsedQuery, str, int], Iterator[Keyed]]


class Ranker:
    def __init__(self, table: EntryTable, organisations: OrganisationMatcher) -> None:
        self.table = table
        self.gazetteer = table.gazetteer
        self.organisations = organisations

    def rank(self, query: ParsedQuery, wanted: int) -> list[SearchResult]:
        """The first `wanted` results of a parsed query, best first."""
        results: list[SearchResult] = []
        if query.organisations:
            results = self._rank_organisations(query)
        if len(results) < wanted:
            seen = {r.entry.id for r in results}
            more = self._rank_needs(query, wanted)
            results.extend(r for r in more if r.entry.id not in seen)
        return results

    def keep_organisations_at(self, query: ParsedQuery) -> None:
        """The chat settled the place: only organisations covering it still answer."""
        query.organisations = {i: s for i, s in query.organisations.items()
                               if self.level_for_place(i, query)[0] is not None}

    def _rank_needs(self, query: ParsedQuery, wanted: int) -> list[SearchResult]:
        if query.topic and query.place:
            return self._merge_readings(query, wanted, self._topic_place)
        if query.topic:
            return self._topic_only(query, wanted)
        if query.place and not query.organisations:
            return self._merge_readings(query, wanted, self._place_only)
        return []

    def _merge_readings(self, query: ParsedQuery, wanted: int,
                        rank: PlaceRanking) -> list[SearchResult]:
        keyed: dict[str, Keyed] = {}
        for code in query.place.codes if query.place else ():
            for key, result in rank(query, code, wanted):
                current = keyed.get(result.entry.id)
                if current is None or key < current[0]:
                    keyed[result.entry.id] = (key, result)
        return [r for _, r in sorted(keyed.values(), key=lambda kr: kr[0])][:wanted]

    def _covering(self, code: str, wanted: int, postings: Postings) -> list[tuple[int, int]]:
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
                if not self.table.excluded(idx, code):
                    found.append((rank, idx))
        return found

    def _topic_place(self, query: ParsedQuery, code: str, wanted: int) -> Iterator[Keyed]:
        table, topic = self.table, query.topic or ""
        by_topic_area: Mapping[tuple[str, str], Sequence[int]] = table.by_topic_area
        found = self._covering(code, wanted, lambda area: by_topic_area.get((topic, area), ()))
        carriers: set[int] = set()
        if query.concepts:
            # The carriers among the topic's entries covering the place, most local first.
            carried = self._covering(code, wanted, lambda area: [
                i for i in by_topic_area.get((topic, area), ())
                if table.carries(i, query.concepts)])
            carriers = {idx for _rank, idx in carried}
            seen = {idx for _rank, idx in found}
            found.extend(item for item in carried if item[1] not in seen)
        for rank, idx in found:
            # Contract rule 2: entries carrying the query's specific service word first.
            specific = idx in carriers
            key = (not specific, rank, table.language_rank(idx, query.language),
                   -table.text_score(idx, query.text_tokens), idx)
            score = 0.9 - 0.1 * rank + 0.05 * (key[2] == 0) + 0.05 * min(1.0, -key[3] / 3)
            score = 0.95 + 0.05 * (1 - rank / 4) if specific else min(score, 0.94)
            yield key, SearchResult(table.entries[idx], round(score, 3), "topic_place",
                                    RANK_LEVEL[rank], code)

    def _place_only(self, query: ParsedQuery, code: str, wanted: int) -> Iterator[Keyed]:
        table = self.table
        by_area: Mapping[str, Sequence[int]] = table.by_area
        found = self._covering(code, wanted, lambda area: by_area.get(area, ()))
        # A place alone asks for what is local to it: up to its arrondissement, or the
        # province itself when a province was named ("Limburg", read as the province).
        local = max(LEVEL_RANK["arrondissement"], self.gazetteer.area(code).rank)
        for rank, idx in found:
            if rank > local:
                continue
            key = (rank, table.language_rank(idx, query.language),
                   -table.text_score(idx, query.text_tokens), idx)
            yield key, SearchResult(table.entries[idx], round(0.5 - 0.1 * rank, 3), "place",
                                    RANK_LEVEL[rank], code)

    def _topic_only(self, query: ParsedQuery, wanted: int) -> list[SearchResult]:
        table = self.table
        widths = table.by_topic_width.get(query.topic or "", {})
        ranked: list[tuple[tuple[Any, ...], int, int]] = []
        for width in sorted(widths, reverse=True):
            for idx in widths[width]:
                key = (-width, not table.carries(idx, query.concepts),
                       table.language_rank(idx, query.language),
                       -table.text_score(idx, query.text_tokens), idx)
                ranked.append((key, width, idx))
            if len(ranked) >= wanted:
                break
        ranked.sort(key=lambda item: item[0])
        return [SearchResult(table.entries[idx], round(0.6 + 0.05 * width, 3), "topic",
                             RANK_LEVEL[width]) for _, width, idx in ranked[:wanted]]

    def _rank_organisations(self, query: ParsedQuery) -> list[SearchResult]:
        table = self.table
        ranked: list[Keyed] = []
        for idx, org_score in self._with_sisters(query).items():
            level, place = self.level_for_place(idx, query)
            has_topic = query.topic in table.entries[idx].topics if query.topic else True
            key = (level is None, level if level is not None else 9, not has_topic, -org_score,
                   table.language_rank(idx, query.language),
                   -table.text_score(idx, query.text_tokens), idx)
            score = 0.8 + 0.2 * org_score - (0.1 if level is None and query.place else 0)
            ranked.append((key, SearchResult(table.entries[idx], round(score, 3), "organisation",
                                             RANK_LEVEL.get(level) if level is not None else None,
                                             place)))
        ranked.sort(key=lambda kr: kr[0])
        return [r for _, r in ranked]

    def _with_sisters(self, query: ParsedQuery) -> dict[int, float]:
        """"Croix-Rouge Gand": the organisation named does not cover the place, its sister
        (another entry sharing a multi-word name, here "Red Cross") does — both answer, the
        one covering the place first."""
        found = dict(query.organisations)
        if not query.place or any(self.level_for_place(idx, query)[0] is not None
                                  for idx in found):
            return found
        best = heapq.nlargest(MAX_SISTER_SOURCES, found.items(), key=lambda kv: (kv[1], -kv[0]))
        for idx, score in best:
            for name in names_of(self.table.entries[idx]):
                for sister in self.organisations.sharing_name(name):
                    if sister not in found and self.level_for_place(sister, query)[0] is not None:
                        found[sister] = score
        return found

    def level_for_place(self, idx: int, query: ParsedQuery) -> tuple[int | None, str | None]:
        """The most local rank at which the entry covers one of the query's place readings,
        and that reading; (None, None) when it covers none."""
        if not query.place:
            return None, None
        best: tuple[int | None, str | None] = (None, None)
        includes = set(self.table.includes[idx])
        for code in query.place.codes:
            if self.table.excluded(idx, code):
                continue
            for area, rank in self.gazetteer.containing(code):
                if area in includes:
                    if best[0] is None or rank < best[0]:
                        best = (rank, code)
                    break
        return best
