"""`UTCDateTime`: every moment the database gives back is aware and in UTC, on SQLite (which
keeps no zone) as on PostgreSQL."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select, text

from bot.db import Database
from bot.migrations import upgrade
from bot.people import KnownChat

BRUSSELS_SUMMER = timezone(timedelta(hours=2))


async def test_moments_are_stored_in_utc_and_read_back_aware(database_url: str) -> None:
    db = Database(database_url)
    try:
        await upgrade(db)
        async with db.transaction() as session:
            session.add_all([
                KnownChat(key="console:a", platform="console",
                     last_seen=datetime(2026, 6, 1, 11, 0, tzinfo=BRUSSELS_SUMMER)),
                KnownChat(key="console:b", platform="console",
                     last_seen=datetime(2026, 6, 1, 9, 30)),  # naive: taken as UTC
            ])
        async with db.session() as session:
            rows = await session.execute(select(KnownChat.key, KnownChat.last_seen))
            seen = {key: moment for key, moment in rows}
            later = list(await session.scalars(select(KnownChat.key).where(
                KnownChat.last_seen > datetime(2026, 6, 1, 11, 15, tzinfo=BRUSSELS_SUMMER))))
        assert seen == {"console:a": datetime(2026, 6, 1, 9, 0, tzinfo=UTC),
                        "console:b": datetime(2026, 6, 1, 9, 30, tzinfo=UTC)}
        assert all(moment.utcoffset() == timedelta(0) for moment in seen.values())
        assert later == ["console:b"]  # 11:15 in Brussels is 9:15 UTC: compared in UTC
    finally:
        await db.dispose()


async def test_a_sqlite_database_writes_ahead_and_syncs_at_checkpoints(tmp_path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        async with database.session() as session:
            assert (await session.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            # 1 = NORMAL (2 = FULL, the default): no disk wait at every commit.
            assert (await session.execute(text("PRAGMA synchronous"))).scalar() == 1
            assert (await session.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    finally:
        await database.dispose()
