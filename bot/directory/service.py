"""The directory service: import/export, the in-memory index and its refresh, freshness, and
the last question of each chat (for `/more`). Built by `_wire_directory` in bot/bootstrap.py,
which also makes its re-verification, change log and campaign parts; knows nothing of chat."""
from __future__ import annotations

import asyncio
import gc
import io
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, UTC
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database
from bot.directory.csvformat import (FileError, ParsedFile, Problem, read_directory,
                                     scan_directory, write_directory)
from bot.directory.gazetteer import Gazetteer
from bot.directory.index import DirectoryIndex, SearchOutcome
from bot.directory.models import DirectoryEntry, LastQuery, Organisation, organisation_from, utcnow
from bot.directory.records import EntryRecord
from bot.directory.staged import OnApplied, StagedImport
from bot.directory.vocabulary import Vocabulary

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.directory.campaign import Campaign
    from bot.directory.changes import ChangeLog
    from bot.directory.verification import Verification

log = logging.getLogger("coordbot.directory")

STALE_AFTER_DAYS = 90          # /stale and the re-verification request
WARN_AFTER_DAYS = 183          # "not verified for over 6 months"
SEED_FILE = Path("directory") / "seed.csv"


@dataclass
class ImportReport:
    applied: bool
    created: int = 0
    updated: int = 0
    removed: int = 0
    skipped: int = 0
    total_rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    file_error: str | None = None
    replace: bool = False
    more_problems: int = 0  # problems beyond those kept in `problems` (a huge bad file)

    def counts(self) -> dict:
        """What the audit log keeps of an import: counts, never the rows."""
        return {"created": self.created, "updated": self.updated, "removed": self.removed,
                "skipped": self.skipped, "replace": self.replace}


@dataclass
class MoreResults:
    """The next page of the chat's last question; numbering goes on after `shown_before`."""

    query: str
    shown_before: int
    outcome: SearchOutcome


class DirectoryService:
    # Its parts, made with it by the composition root (`_wire_directory`): the re-verification
    # job (verification.py), focal points' changes (changes.py), the completeness campaign
    # (campaign.py).
    verification: Verification
    changes: ChangeLog
    campaign: Campaign

    def __init__(self, data_dir: Path, clock: Clock | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.clock = clock
        self.gazetteer = Gazetteer.load(self.data_dir)
        self.vocabulary = Vocabulary.load(self.data_dir)
        self.index = DirectoryIndex([], self.gazetteer, self.vocabulary)
        self._refresh_lock = asyncio.Lock()

    async def on_start(self, db: Database, *, load_bundled_data: bool) -> None:
        """At start-up: the bundled directory when the database holds none, then the index."""
        async with db.transaction() as session:
            if load_bundled_data:
                report = await self.load_seed_if_empty(session)
                if report is not None and not report.applied:
                    log.warning("seed directory not loaded", extra={"fields": {
                        "problems": len(report.problems)}})
            await self.refresh(session)

    # ---- reading -------------------------------------------------------------------------
    async def records(self, session: AsyncSession) -> list[EntryRecord]:
        rows = await session.scalars(select(DirectoryEntry).order_by(DirectoryEntry.position,
                                                                     DirectoryEntry.id))
        return [row.to_record() for row in rows.unique()]

    async def _records_in_pages(self, session: AsyncSession, size: int = 2000
                                ) -> list[EntryRecord]:
        """`records()` a page at a time: turning rows into objects runs on the event loop,
        and 100,000 of them at once would keep everyone else waiting for seconds."""
        found: list[EntryRecord] = []
        last: tuple[int, str] | None = None
        while True:
            query = select(DirectoryEntry).order_by(DirectoryEntry.position,
                                                    DirectoryEntry.id).limit(size)
            if last is not None:
                query = query.where(or_(DirectoryEntry.position > last[0], and_(
                    DirectoryEntry.position == last[0], DirectoryEntry.id > last[1])))
            rows = list((await session.scalars(query)).unique())
            found += [row.to_record() for row in rows]
            if len(rows) < size:
                return found
            last = (rows[-1].position, rows[-1].id)
            session.expunge_all()
            await asyncio.sleep(0)

    async def count(self, session: AsyncSession) -> int:
        return await session.scalar(select(func.count()).select_from(DirectoryEntry)) or 0

    async def refresh(self, session: AsyncSession) -> DirectoryIndex:
        """Rebuilds the index from the database (after an import, at start-up)."""
        records = await self._records_in_pages(session)
        async with self._refresh_lock:
            self.index = await asyncio.to_thread(DirectoryIndex, records, self.gazetteer,
                                                 self.vocabulary)
        # The index is long-lived: keep the garbage collector from re-scanning it, which
        # otherwise shows as multi-millisecond pauses in query latency.
        gc.freeze()
        log.info("directory index built", extra={"fields": {"entries": len(records)}})
        return self.index

    def detect_language(self, text: str) -> str | None:
        """The language a question is written in, when its words say so unambiguously."""
        return self.index.parse(text[:500]).detected_language

    def search(self, text: str, limit: int = 5, language: str | None = None,
               offset: int = 0, place: str | None = None) -> SearchOutcome:
        return self.index.search(text, limit=limit, language=language, offset=offset,
                                 place=place)

    # ---- the chat's last question, for `/more` ---------------------------------------------
    async def answer_query(self, session: AsyncSession, chat_key: str, user_id: int, text: str,
                           *, limit: int, language: str | None,
                           place: str | None = None) -> SearchOutcome:
        """`search`, remembering the question for `more_results`, unless its place is
        ambiguous and must be asked back first."""
        outcome = self.search(text, limit=limit, language=language, place=place)
        if not (outcome.ambiguous and place is None):
            row = await self._last_query(session, chat_key, user_id)
            if row is None:
                row = LastQuery(chat_key=chat_key, user_id=user_id)
                session.add(row)
            row.query, row.place, row.shown = text, place, len(outcome.results)
            row.updated_at = utcnow()
        return outcome

    async def more_results(self, session: AsyncSession, chat_key: str, user_id: int, *,
                           limit: int, language: str | None) -> MoreResults | None:
        """The next `limit` results of the chat's last question; None when there was none."""
        row = await self._last_query(session, chat_key, user_id)
        if row is None:
            return None
        outcome = self.search(row.query, limit=limit, language=language, offset=row.shown,
                              place=row.place)
        page = MoreResults(row.query, row.shown, outcome)
        row.shown += len(outcome.results)
        return page

    @staticmethod
    async def _last_query(session: AsyncSession, chat_key: str, user_id: int
                          ) -> LastQuery | None:
        return await session.scalar(select(LastQuery).where(
            LastQuery.chat_key == chat_key, LastQuery.user_id == user_id))

    # ---- areas, for the audiences of other features ---------------------------------------
    # "A person is in area X" when the directory entry they stand for lies in X: every
    # municipality the entry covers (its codes minus its `-` exclusions) is inside X. The entry
    # is the person's linked entry (User.entry_id) or, failing that, their organisation id when
    # it names an entry. An entry wider than X (a national service for `area:BE-WLG`) is not in
    # X. Audiences (bot/audience.py) also count an entry that covers all of X: see
    # entry_in_place.
    def area_code(self, code: str) -> str | None:
        """`BE-WLG` → `60000`, `dg` → `DG`, `62063` → `62063`; None when unknown."""
        return self.gazetteer.canonical(code) if code else None

    def area_label(self, code: str, lang: str = "en") -> str:
        return self.gazetteer.label(code, lang)

    def area_within(self, inner: str, outer: str) -> bool:
        """Whether area `inner` lies inside area `outer` (both any accepted area code)."""
        first, second = self.area_code(inner), self.area_code(outer)
        if first is None or second is None:
            return False
        return (self.gazetteer.area(first).municipalities
                <= self.gazetteer.area(second).municipalities)

    def organisations_named(self, text: str) -> dict[str, list[EntryRecord]]:
        """The organisations `text` names ("CPAS de Mons", "Fedasil"), each with its entries,
        by organisation name; empty when none (see DirectoryIndex.entries_named)."""
        found: dict[str, list[EntryRecord]] = {}
        for entry in self.index.entries_named(text):
            # Entries written in full by the same name are one organisation ("Fedasil").
            name = self.index.exact_name(entry, text) or entry.organisation
            found.setdefault(name, []).append(entry)
        return found

    def place_readings(self, key: str) -> list[tuple[int, tuple[str, ...]]]:
        """Every reading of a folded place phrase, surest first: (priority, area codes)."""
        if key.isdecimal():
            codes = self.gazetteer.postal_codes.get(key)
            return [(0, codes)] if codes else []
        by_priority = self.gazetteer.names.get(key) or {}
        return [(priority, tuple(sorted(codes))) for priority, codes in sorted(by_priority.items())]

    def home_entry(self, entry_id: str | None, organisation_id: str | None) -> str | None:
        """The directory entry that places a person: their linked entry, else their
        organisation id when it is an entry id; None when neither names a known entry."""
        for candidate in (entry_id, organisation_id):
            if candidate and self.index.get(candidate) is not None:
                return candidate
        return None

    def entry_in_place(self, entry_id: str, area: str) -> bool:
        """Whether an entry is *in* a place as audiences mean it (commands.md): it lies in the
        place (CPAS de Liège in Liège province) or covers all of it (the province's services,
        Forem and the federal services for Liège city)."""
        code = self.area_code(area)
        covered = self.index.municipalities_of(entry_id)
        if not (code and covered):
            return False
        place = self.gazetteer.area(code).municipalities
        return covered <= place or place <= covered

    def entry_area(self, entry_id: str, candidates) -> str | None:
        """The most local of `candidates` (area codes, e.g. a form's region choices) that the
        entry lies in, as written in `candidates`; None when none contains it."""
        covered = self.index.municipalities_of(entry_id)
        if not covered:
            return None
        best: tuple[int, str] | None = None
        for candidate in candidates:
            code = self.area_code(candidate)
            if code is None:
                continue
            area = self.gazetteer.area(code)
            if covered <= area.municipalities and (best is None
                                                   or len(area.municipalities) < best[0]):
                best = (len(area.municipalities), candidate)
        return best[1] if best else None

    # ---- import / export -----------------------------------------------------------------
    def parse(self, content: bytes, skip_invalid: bool = False) -> ParsedFile:
        return read_directory(content, self.gazetteer, self.vocabulary, skip_invalid=skip_invalid)

    async def import_file(self, session: AsyncSession, content: bytes, *, replace: bool = False,
                          skip_invalid: bool = False) -> ImportReport:
        """Validates the whole file first; writes nothing unless it is valid (or invalid rows
        are skipped). The caller's transaction makes `replace` atomic."""
        try:
            parsed = await asyncio.to_thread(self.parse, content, skip_invalid)
        except FileError as exc:
            return ImportReport(applied=False, file_error=str(exc))
        report = ImportReport(applied=False, problems=parsed.problems,
                              skipped=parsed.invalid_lines, total_rows=parsed.total_rows,
                              replace=replace)
        if (parsed.problems and not skip_invalid) or not parsed.records:
            return report
        await self._write(session, parsed.records, replace, report)
        report.applied = True
        log.info("directory imported", extra={"fields": {
            "created": report.created, "updated": report.updated, "removed": report.removed,
            "skipped": report.skipped, "replace": replace}})
        return report

    async def import_staged(self, db, source: bytes | Path, *, replace: bool = False,
                            skip_invalid: bool = False,
                            on_applied: OnApplied | None = None) -> ImportReport:
        """`import_file` for any size, in its own short transactions (see staged.py): reads
        `source` (bytes, or a file path, streamed) in bounded memory while the bot goes on
        answering, then switches the directory in one transaction, in which `on_applied`
        (session, report) records the audit entry."""
        report = ImportReport(applied=False, replace=replace)
        stream: BinaryIO = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) \
            else await asyncio.to_thread(Path(source).open, "rb")
        try:
            rows = scan_directory(stream, self.gazetteer, self.vocabulary)
            job = StagedImport(report, rows, replace=replace, skip_invalid=skip_invalid,
                               now=self._now(), on_applied=on_applied)
            async with db.engine.connect() as conn:
                await job.run(conn)
        finally:
            stream.close()
        report.more_problems = job.problem_count - len(report.problems)
        if report.applied:
            log.info("directory imported", extra={"fields": {
                **report.counts(), "staged": True}})
        return report

    async def _write(self, session: AsyncSession, records: list[EntryRecord], replace: bool,
                     report: ImportReport) -> None:
        now = self._now()
        if replace:
            old_ids = set(await session.scalars(select(DirectoryEntry.id)))
            report.removed = len(old_ids - {r.id for r in records})
            await session.execute(delete(DirectoryEntry))
            await session.execute(delete(Organisation))
            await session.flush()
            existing: dict[str, DirectoryEntry] = {}
            organisations: dict[str, Organisation] = {}
            start = 0
        else:
            old_ids = set()
            existing = {e.id: e for e in (await session.scalars(select(DirectoryEntry))).unique()}
            organisations = {o.key: o for o in await session.scalars(select(Organisation))}
            start = (await session.scalar(select(func.max(DirectoryEntry.position))) or 0) + 1
        for offset, record in enumerate(records):
            key = Organisation.key_of(record)
            organisation = organisations.get(key)
            if organisation is None:
                organisation = organisations[key] = organisation_from(record)
                session.add(organisation)
            entry = existing.get(record.id)
            if entry is None:
                entry = DirectoryEntry(id=record.id)
                session.add(entry)
                position = start + offset
                if record.id in old_ids:  # replaced, but the entry existed before
                    report.updated += 1
                else:
                    report.created += 1
            else:
                report.updated += 1
                position = entry.position
            entry.apply(record, organisation, position, now)
        await session.flush()

    async def export(self, session: AsyncSession) -> bytes:
        return write_directory(await self.records(session))

    async def load_seed_if_empty(self, session: AsyncSession) -> ImportReport | None:
        if await self.count(session):
            return None
        seed = self.data_dir / SEED_FILE
        if not seed.exists():
            return None
        return await self.import_file(session, seed.read_bytes(), replace=True)

    # ---- freshness -----------------------------------------------------------------------
    def _now(self) -> datetime:
        return self.clock.now() if self.clock else datetime.now(UTC)

    def today(self) -> date:
        return self._now().date()

    async def stale(self, session: AsyncSession, days: int = STALE_AFTER_DAYS) -> list[EntryRecord]:
        """Active entries never verified or not verified for `days` days, oldest first."""
        today = self.today()
        found = [r for r in await self.records(session) if r.is_active
                 and (r.last_verified is None or (today - r.last_verified).days >= days)]
        return sorted(found, key=lambda r: (r.last_verified or date.min, r.id))

    async def due_for_verification(self, session: AsyncSession,
                                   every_days: int = STALE_AFTER_DAYS,
                                   linked: frozenset[str] | set[str] = frozenset()
                                   ) -> list[DirectoryEntry]:
        """Entries whose focal point should be asked to confirm them now: active, with a focal
        point (a Matrix or Telegram handle, or a person linked to the entry: `linked` ids), not
        verified for `every_days` days and not asked in that period. The re-verification job
        (verification.py) calls this and then `mark_asked`."""
        now = self._now()
        rows = (await session.scalars(select(DirectoryEntry).where(
            DirectoryEntry.status == "active").order_by(DirectoryEntry.position,
                                                         DirectoryEntry.id))).unique()
        due = []
        for row in rows:
            if not (row.matrix or row.telegram or row.id in linked):
                continue
            if row.last_verified and (now.date() - row.last_verified).days < every_days:
                continue
            asked = row.verification_requested_at
            if asked and now - asked < timedelta(days=every_days):
                continue
            due.append(row)
        return due

    async def mark_asked(self, session: AsyncSession, entry_id: str) -> None:
        entry = await session.get(DirectoryEntry, entry_id)
        if entry is not None:
            entry.verification_requested_at = self._now()

    async def confirm(self, session: AsyncSession, entry_id: str) -> EntryRecord | None:
        """The focal point confirmed the entry: it is verified today."""
        entry = await session.get(DirectoryEntry, entry_id)
        if entry is None:
            return None
        entry.last_verified = self.today()
        entry.changes_requested_at = None
        entry.updated_at = self._now()
        await session.flush()
        return entry.to_record()

    def note_verified(self, record: EntryRecord) -> None:
        """Shows a confirmation in the index without rebuilding it (only the date changed);
        called after the confirming transaction committed."""
        self.index.replace(record)

    async def request_changes(self, session: AsyncSession, entry_id: str) -> EntryRecord | None:
        """The focal point says the entry needs changes: recorded until it is confirmed (or a
        newer verification date is imported); `/stale` lists it."""
        entry = await session.get(DirectoryEntry, entry_id)
        if entry is None:
            return None
        entry.changes_requested_at = self._now()
        await session.flush()
        return entry.to_record()

    async def changes_requested(self, session: AsyncSession) -> list[tuple[EntryRecord, datetime]]:
        """Entries whose focal point asked for changes since they were last verified."""
        rows = (await session.scalars(select(DirectoryEntry).where(
            DirectoryEntry.changes_requested_at.is_not(None))
            .order_by(DirectoryEntry.changes_requested_at, DirectoryEntry.id))).unique()
        found = []
        for row in rows:
            requested = row.changes_requested_at
            if requested is None:
                continue
            if row.last_verified is None or row.last_verified < requested.date():
                found.append((row.to_record(), requested))
        return found
