"""What the Telegram transport must remember across restarts so that no update is handled
twice and none is lost.

Telegram keeps an update until a `getUpdates` call carries an offset above its id; the
transport only sends that offset after every update of the batch was handled. Between the
two, a crash would make Telegram hand the batch out again, so each handled update id is also
recorded here, right after it was handled, and skipped when it comes back. Once the offset
moved past them, those records are pruned. In webhook mode (no offsets) the records are what
deduplicates Telegram's redeliveries; they are pruned after two days (Telegram keeps
undelivered updates for at most 24 hours)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import BigInteger, DateTime, String, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, Database

KEEP_WEBHOOK_RECORDS = timedelta(days=2)


def _now() -> datetime:
    return datetime.now(timezone.utc)


class TelegramOffset(Base):
    """The offset to ask Telegram for next, per bot (a token change starts a new bot)."""

    __tablename__ = "telegram_offsets"

    bot_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    next_offset: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class TelegramHandledUpdate(Base):
    __tablename__ = "telegram_handled_updates"

    bot_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    handled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class UpdateLog:
    """The handled-update records of one bot, in the application's database."""

    def __init__(self, db: Database, bot_id: str):
        self.db = db
        self.bot_id = bot_id

    async def next_offset(self) -> int | None:
        async with self.db.session() as session:
            row = await session.get(TelegramOffset, self.bot_id)
            return row.next_offset if row else None

    async def handled_from(self, offset: int | None) -> set[int]:
        """Ids of updates handled but not yet covered by the stored offset."""
        query = select(TelegramHandledUpdate.update_id).where(
            TelegramHandledUpdate.bot_id == self.bot_id)
        if offset is not None:
            query = query.where(TelegramHandledUpdate.update_id >= offset)
        async with self.db.session() as session:
            return set(await session.scalars(query))

    async def is_handled(self, update_id: int) -> bool:
        async with self.db.session() as session:
            return await session.get(TelegramHandledUpdate, (self.bot_id, update_id)) is not None

    async def mark_handled(self, update_id: int) -> None:
        try:
            async with self.db.transaction() as session:
                if await session.get(TelegramHandledUpdate, (self.bot_id, update_id)) is None:
                    session.add(TelegramHandledUpdate(bot_id=self.bot_id, update_id=update_id,
                                                      handled_at=_now()))
        except IntegrityError:
            pass  # recorded concurrently: the record exists, which is all that matters

    async def advance(self, next_offset: int) -> None:
        """Stores the offset the next getUpdates acknowledges, and forgets the records below."""
        async with self.db.transaction() as session:
            row = await session.get(TelegramOffset, self.bot_id)
            if row is None:
                session.add(TelegramOffset(bot_id=self.bot_id, next_offset=next_offset,
                                           updated_at=_now()))
            elif next_offset > row.next_offset:
                row.next_offset, row.updated_at = next_offset, _now()
            await session.execute(delete(TelegramHandledUpdate).where(
                TelegramHandledUpdate.bot_id == self.bot_id,
                TelegramHandledUpdate.update_id < next_offset))

    async def prune_old(self, keep: timedelta = KEEP_WEBHOOK_RECORDS) -> None:
        async with self.db.transaction() as session:
            await session.execute(delete(TelegramHandledUpdate).where(
                TelegramHandledUpdate.bot_id == self.bot_id,
                TelegramHandledUpdate.handled_at < _now() - keep))
