"""One poller per platform account when several instances share one PostgreSQL database.

Telegram's `getUpdates` and the Matrix sync must run in one instance at a time. Each platform
has a named lease: a PostgreSQL session advisory lock held on a dedicated connection. The
holder is the leader and runs that transport; the others are standbys that try again every
`retry_seconds`. When the leader dies its connection closes and PostgreSQL frees the lock at
once (TCP keepalives on that connection bound how long a vanished machine holds it), so a
standby takes over within `retry_seconds` plus the keepalive time. A leader that loses its
connection stops its transport before anyone else can start one. On SQLite there is one
`coordbot run` per database file, which is always the leader."""
from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.retry import LEADER_START, RetryPolicy

log = logging.getLogger("coordbot.leader")

# Server-side keepalives for the lease connection: a leader whose machine vanished loses the
# lease after about idle + interval * count seconds.
KEEPALIVE = {"tcp_keepalives_idle": 10, "tcp_keepalives_interval": 5, "tcp_keepalives_count": 3}


def lease_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a lease name."""
    return int.from_bytes(hashlib.sha256(f"coordbot:{name}".encode()).digest()[:8], "big",
                          signed=True)


class Lease:
    def __init__(self, db, name: str):
        self.db = db
        self.name = name
        self.key = lease_key(name)
        self._connection: AsyncConnection | None = None

    @property
    def shared(self) -> bool:
        return self.db.engine.dialect.name == "postgresql"

    @property
    def held(self) -> bool:
        return self._connection is not None or not self.shared

    async def try_acquire(self) -> bool:
        if not self.shared:
            return True
        if self._connection is not None:
            return True
        connection = await self.db.engine.connect()
        try:
            for setting, value in KEEPALIVE.items():
                await connection.execute(text(f"SET {setting} = {int(value)}"))
            got = await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"),
                                          {"key": self.key})
            await connection.commit()
        except Exception:  # noqa: BLE001 - the database is away: not the leader
            await _close_quietly(connection)
            return False
        if not got:
            await _close_quietly(connection)
            return False
        self._connection = connection
        return True

    async def still_held(self) -> bool:
        if not self.shared:
            return True
        if self._connection is None:
            return False
        try:
            # A session lock lives as long as its connection: alive means still held.
            await self._connection.execute(text("SELECT 1"))
            await self._connection.commit()
            return True
        except Exception:  # noqa: BLE001 - connection lost: the lock is gone with it
            await self.release()
            return False

    async def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                await connection.execute(text("SELECT pg_advisory_unlock(:key)"),
                                         {"key": self.key})
                await connection.commit()
            except Exception:  # noqa: BLE001 - closing drops the lock anyway
                pass
            await _close_quietly(connection)


async def _close_quietly(connection: AsyncConnection) -> None:
    try:
        await connection.close()
    except Exception:  # noqa: BLE001
        pass


class LeaderLoop:
    """Runs `start()` while this instance holds `lease`, and `stop()` as soon as it does not.
    A standby asks for the lease every `retry_seconds`; a leader whose transport could not
    start (the platform is down) backs off by the `leader.start` retry policy."""

    def __init__(self, lease: Lease, start: Callable[[], Awaitable[None]],
                 stop: Callable[[], Awaitable[None]], *, retry_seconds: float = 5.0,
                 check_seconds: float = 5.0, start_retry: RetryPolicy = LEADER_START):
        self.lease = lease
        self.start, self.stop = start, stop
        self.retry_seconds, self.check_seconds = retry_seconds, check_seconds
        self.start_retry = start_retry
        self.start_failures = 0
        self.leading = False
        self._finished = asyncio.Event()

    async def begin(self) -> bool:
        """One attempt, now. A transport that fails to start raises (told in one line at
        start-up); returns whether this instance leads."""
        if not await self.lease.try_acquire():
            return False
        try:
            await self.start()
        except BaseException:
            await self.stop()
            await self.lease.release()
            raise
        self.leading = True
        log.info("leader elected", extra={"fields": {"lease": self.lease.name}})
        return True

    async def run(self) -> None:
        while not self._finished.is_set():
            if self.leading:
                await self._hold()
            else:
                try:
                    if await self.begin():
                        self.start_failures = 0
                        continue
                except Exception:  # noqa: BLE001 - e.g. the platform is down: try again later
                    self.start_failures += 1
                    log.exception("leader could not start its transport", extra={"fields": {
                        "lease": self.lease.name, "failures": self.start_failures}})
                    await self._sleep(self.start_retry.due_in(self.start_failures))
                    continue
            await self._sleep(self.retry_seconds)
        if self.leading:
            await self._step_down()

    async def _hold(self) -> None:
        while not self._finished.is_set() and await self.lease.still_held():
            await self._sleep(self.check_seconds)
        await self._step_down()

    async def _step_down(self) -> None:
        self.leading = False
        try:
            await self.stop()
        finally:
            await self.lease.release()
            log.info("leadership ended", extra={"fields": {"lease": self.lease.name}})

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._finished.wait(), timeout=seconds)
        except TimeoutError:
            pass

    async def finish(self) -> None:
        self._finished.set()
