"""A large directory import that never holds up the rest of the bot.

The file is read row by row (csvformat.scan_directory: one row in memory at a time) in a worker
thread, and every valid row goes, in batches, into a TEMPORARY staging table on one dedicated
connection. A temporary table lives in the connection's own temp database: on SQLite, writing
it takes no lock on the main database, so other people's messages keep being answered while a
100,000-row file is validated and staged. Nothing of the live directory changes until the whole
file has been read:

- the file (or a row, without `skip_invalid`) is invalid → the staging table is dropped,
  the directory is untouched;
- otherwise one short transaction switches: set-based `INSERT … SELECT` / `UPDATE … FROM`
  statements copy the staged rows into `directory_organisations` and `directory_entries`
  (and, with `replace`, delete the rest first), and the caller's audit entry is written in the
  same transaction. The write lock is held for that switch only, never for the reading.

All-or-nothing is kept by the switch being a single transaction; a crash before it leaves only
a temporary table, which the database drops with the connection."""
from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, cast

from sqlalchemy import (JSON, Column, Date, Integer, MetaData, String, Table, Text,
                        delete, func, insert, literal, select, update)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.db import UTCDateTime
from bot.directory.csvformat import FileError, Row
from bot.directory.models import DirectoryEntry, Organisation
from bot.directory.records import NAME_LANGUAGES, EntryRecord

if TYPE_CHECKING:
    from bot.directory.service import ImportReport

log = logging.getLogger("coordbot.directory")

BATCH = 2000          # rows staged per round trip: bounded memory, few statements
MAX_PROBLEMS = 1000   # problems kept for the report; more are only counted
OnApplied = Callable[[AsyncSession, "ImportReport"], Awaitable[None]]

_ENTRY_FIELDS = ("service", "topics", "coverage", "keywords", "languages", "contact_name",
                 "email", "phone", "url", "address", "matrix", "telegram", "status",
                 "last_verified", "attributes")
_ORG_FIELDS = ("name", *(f"name_{lang}" for lang in NAME_LANGUAGES), "acronym", "org_type")

_metadata = MetaData()
STAGING = Table(
    "directory_import_staging", _metadata,
    Column("seq", Integer, primary_key=True),
    Column("id", String(100)),
    Column("org_key", String(64)),
    *(Column(f"org_{name}", Text) for name in _ORG_FIELDS),
    Column("service", Text), Column("topics", JSON), Column("coverage", JSON),
    Column("keywords", JSON), Column("languages", JSON), Column("contact_name", Text),
    Column("email", Text), Column("phone", Text), Column("url", Text), Column("address", Text),
    Column("matrix", Text), Column("telegram", Text), Column("status", String(10)),
    Column("last_verified", Date), Column("attributes", JSON),
    prefixes=["TEMPORARY"],
)


def staged_row(seq: int, record: EntryRecord) -> dict:
    names = record.organisation_names
    row = {"seq": seq, "id": record.id, "org_key": Organisation.key_of(record),
           "org_name": record.organisation, "org_acronym": record.acronym,
           "org_org_type": record.org_type}
    row.update({f"org_name_{lang}": names.get(lang, "") for lang in NAME_LANGUAGES})
    for name in _ENTRY_FIELDS:
        value = getattr(record, name)
        row[name] = list(value) if isinstance(value, tuple) else (
            dict(value) if isinstance(value, dict) else value)
    return row


class StagedImport:
    """One import: `await StagedImport(...).run(connection)`; see the module docstring."""

    def __init__(self, report, rows: Iterator[Row], *, replace: bool, skip_invalid: bool,
                 now: datetime, on_applied: OnApplied | None = None):
        self.report = report
        self.rows = rows
        self.replace, self.skip_invalid = replace, skip_invalid
        self.now = now
        self.on_applied = on_applied
        self.staged = 0
        self.problem_count = 0
        self._done = False

    async def run(self, conn: AsyncConnection) -> None:
        # A pooled connection may still hold the table of an import that died: never reuse it.
        await conn.run_sync(lambda sync: STAGING.drop(sync, checkfirst=True))
        await conn.run_sync(lambda sync: STAGING.create(sync))
        await conn.commit()
        try:
            await self._stage(conn)
            if self.report.file_error is None and self.staged and (
                    self.skip_invalid or not self.report.skipped):
                await self._switch(conn)
        finally:
            await conn.rollback()
            await conn.run_sync(lambda sync: STAGING.drop(sync, checkfirst=True))
            await conn.commit()

    async def _stage(self, conn: AsyncConnection) -> None:
        while True:
            try:
                batch = await asyncio.to_thread(self._read_batch)
            except FileError as exc:
                self.report.file_error = str(exc)
                return
            if batch:
                await conn.execute(insert(STAGING), batch)
                await conn.commit()
            if len(batch) < BATCH and self._done:
                return

    def _read_batch(self) -> list[dict]:
        """Runs in a worker thread: parsing and checking rows is the CPU-heavy part."""
        batch: list[dict] = []
        self._done = False
        for row in self.rows:
            # Hands the interpreter lock over after every row: the bot's own thread, which
            # answers everyone else, then waits for it a row (~0.5 ms), not a switch interval.
            time.sleep(0)
            self.report.total_rows += 1
            if row.problems or row.record is None:
                self.report.skipped += 1
                self.problem_count += len(row.problems)
                room = MAX_PROBLEMS - len(self.report.problems)
                self.report.problems.extend(row.problems[:max(0, room)])
                continue
            batch.append(staged_row(self.staged, row.record))
            self.staged += 1
            if len(batch) >= BATCH:
                return batch
        self._done = True
        return batch

    async def _switch(self, conn: AsyncConnection) -> None:
        # Mapped classes' tables, which the typing of `__table__` knows only as FromClause.
        entries, orgs = cast(Table, DirectoryEntry.__table__), cast(Table, Organisation.__table__)
        staged_ids = select(STAGING.c.id)
        existing = await conn.scalar(select(func.count()).select_from(entries).where(
            entries.c.id.in_(staged_ids))) or 0
        self.report.updated, self.report.created = existing, self.staged - existing
        start = 0
        if self.replace:
            total = await conn.scalar(select(func.count()).select_from(entries)) or 0
            self.report.removed = total - existing
            await conn.execute(delete(entries))
            await conn.execute(delete(orgs))
        else:
            start = (await conn.scalar(select(func.max(entries.c.position))) or 0) + 1
        await conn.execute(insert(orgs).from_select(
            ["key", *_ORG_FIELDS],
            select(STAGING.c.org_key, *(STAGING.c[f"org_{name}"] for name in _ORG_FIELDS))
            .distinct().where(STAGING.c.org_key.not_in(select(orgs.c.key)))))
        if not self.replace and existing:
            await conn.execute(update(entries).where(entries.c.id == STAGING.c.id).values(
                organisation_id=select(orgs.c.id).where(orgs.c.key == STAGING.c.org_key)
                .scalar_subquery(), updated_at=self.now,
                **{name: STAGING.c[name] for name in _ENTRY_FIELDS}))
        new_rows = select(STAGING.c.id, orgs.c.id, STAGING.c.seq + start,
                          *(STAGING.c[name] for name in _ENTRY_FIELDS),
                          literal(self.now, UTCDateTime())).select_from(
            STAGING.join(orgs, orgs.c.key == STAGING.c.org_key))
        if not self.replace:
            new_rows = new_rows.where(STAGING.c.id.not_in(select(entries.c.id)))
        await conn.execute(insert(entries).from_select(
            ["id", "organisation_id", "position", *_ENTRY_FIELDS, "updated_at"], new_rows))
        if self.on_applied is not None:
            # The session joins the switch's transaction: the entry exists iff the import does.
            session = AsyncSession(bind=conn)
            await self.on_applied(session, self.report)
            await session.flush()
        await conn.commit()
        self.report.applied = True

