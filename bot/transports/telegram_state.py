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

from datetime import datetime, timedelta, UTC
from enum import Enum
from typing import Any, cast

from sqlalchemy import (BigInteger, Boolean, String, delete, select, true,
                        update)
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, Database, UTCDateTime

KEEP_WEBHOOK_RECORDS = timedelta(days=2)
# A webhook claim older than this belongs to an instance that died while handling it.
CLAIM_STALE = timedelta(minutes=2)


def _now() -> datetime:
    return datetime.now(UTC)


class TelegramOffset(Base):
    """The offset to ask Telegram for next, per bot (a token change starts a new bot)."""

    __tablename__ = "telegram_offsets"

    bot_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    next_offset: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)


class TelegramHandledUpdate(Base):
    __tablename__ = "telegram_handled_updates"

    bot_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    handled_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    # False while an instance handles it (webhook mode): a claim, not yet a record.
    finished: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class Claim(Enum):
    MINE = "mine"          # handle it now
    DONE = "done"          # handled already: acknowledge
    BUSY = "busy"          # another instance is handling it: let Telegram retry later


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

    async def claim(self, update_id: int, *, stale_after: timedelta = CLAIM_STALE) -> Claim:
        """Webhook mode with several instances: takes `update_id` for this instance unless
        it was handled, or is being handled, elsewhere. The claim of an instance that died
        while handling it goes stale and is taken over."""
        now = _now()
        try:
            async with self.db.transaction() as session:
                session.add(TelegramHandledUpdate(bot_id=self.bot_id, update_id=update_id,
                                                  handled_at=now, finished=False))
            return Claim.MINE
        except IntegrityError:
            pass
        async with self.db.transaction() as session:
            taken = await session.execute(update(TelegramHandledUpdate).where(
                TelegramHandledUpdate.bot_id == self.bot_id,
                TelegramHandledUpdate.update_id == update_id,
                TelegramHandledUpdate.finished.is_(False),
                TelegramHandledUpdate.handled_at < now - stale_after).values(handled_at=now))
            if cast("CursorResult[Any]", taken).rowcount:
                return Claim.MINE
            row = await session.get(TelegramHandledUpdate, (self.bot_id, update_id))
        return Claim.DONE if row is None or row.finished else Claim.BUSY

    async def finish(self, update_id: int) -> None:
        async with self.db.transaction() as session:
            await session.execute(update(TelegramHandledUpdate).where(
                TelegramHandledUpdate.bot_id == self.bot_id,
                TelegramHandledUpdate.update_id == update_id).values(finished=True,
                                                                      handled_at=_now()))

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
