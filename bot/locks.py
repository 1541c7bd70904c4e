"""Locks between processes that share one database.

PostgreSQL is the one shared engine when several instances run: they coordinate through its
advisory locks. SQLite is the one-machine default: processes on the same file coordinate
through lock files beside it (`fcntl.flock`, released by the kernel when a process dies)."""
from __future__ import annotations

import asyncio
import fcntl
import os
from contextlib import asynccontextmanager
from pathlib import Path
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

if TYPE_CHECKING:
    from bot.db import Database

# Advisory lock keys (any 64-bit integers, fixed for this application).
MIGRATION_LOCK_KEY = 0x636F6F7264_01  # "coord" + 1
SETUP_LOCK_KEY = 0x636F6F7264_02


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL; None for PostgreSQL or an in-memory database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database \
            or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


class LockFile:
    """An exclusive lock on `path`, held until `release()` or the process's end."""

    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None

    def acquire(self, *, wait: bool) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


@asynccontextmanager
async def migration_lock(connection: AsyncConnection, url: str) -> AsyncIterator[None]:
    """Only one process upgrades the schema at a time; the others wait, then find it done."""
    path = sqlite_file(url)
    if path is None:
        if connection.dialect.name == "postgresql":
            # Held until the migration's transaction ends.
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                     {"key": MIGRATION_LOCK_KEY})
        yield
        return
    lock = LockFile(path.with_name(path.name + ".migrate.lock"))
    await asyncio.to_thread(lock.acquire, wait=True)
    try:
        yield
    finally:
        lock.release()


@asynccontextmanager
async def setup_lock(db: Database) -> AsyncIterator[None]:
    """Start-up (migrations, then loading the bundled data into an empty database) is done
    by one process at a time: four consoles started at the same instant on a new database
    all start, and the bundled data is loaded once."""
    path = sqlite_file(db.url)
    if path is not None:
        lock = LockFile(path.with_name(path.name + ".setup.lock"))
        await asyncio.to_thread(lock.acquire, wait=True)
        try:
            yield
        finally:
            lock.release()
        return
    if db.engine.dialect.name != "postgresql":
        yield
        return
    async with db.engine.connect() as connection:
        await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": SETUP_LOCK_KEY})
        await connection.commit()
        try:
            yield
        finally:
            await connection.execute(text("SELECT pg_advisory_unlock(:key)"),
                                     {"key": SETUP_LOCK_KEY})
            await connection.commit()


def single_runner_lock(url: str) -> LockFile | None:
    """`coordbot run` on SQLite is one process per database file: returns the lock held for
    the process's life, or None when another `coordbot run` already holds it. PostgreSQL
    needs no such lock (several instances share the work)."""
    path = sqlite_file(url)
    if path is None:
        return _NoLock()
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = LockFile(path.with_name(path.name + ".run.lock"))
    return lock if lock.acquire(wait=False) else None


class _NoLock(LockFile):
    def __init__(self) -> None:
        super().__init__(Path(os.devnull))

    def acquire(self, *, wait: bool) -> bool:
        return True
