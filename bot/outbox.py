"""The outbox: every message the bot sends on its own initiative (reminders, broadcasts,
check-in questions and nudges) is first written here, in the same transaction as the change
that caused it, then delivered. A row is marked sent only after the platform confirmed it, and
its idempotency key (unique) means the same message cannot be queued twice."""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import JSON, DateTime, Integer, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base
from bot.messages import ChatRef, Choice, Reply
from bot.people import utcnow

log = logging.getLogger("coordbot.outbox")

PENDING, SENT, FAILED = "pending", "sent", "failed"


class OutboxMessage(Base):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    chat_key: Mapped[str] = mapped_column(String(300), index=True)
    text: Mapped[str] = mapped_column(Text)
    choices: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(10), default=PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    not_before: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    platform_message_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # Who asked for it (a broadcast, a reminder occurrence): lets a feature report delivery.
    source: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)

    def reply(self) -> Reply:
        return Reply(self.text, [Choice(c["label"], c["value"]) for c in self.choices or []])


class Outbox:
    MAX_ATTEMPTS = 8
    CONCURRENT_CHATS = 50

    def __init__(self, db, transports, clock):
        self.db = db
        self.transports = transports
        self.clock = clock

    async def enqueue(self, session: AsyncSession, chat: ChatRef, reply: Reply, key: str, *,
                      source: str | None = None, not_before: datetime | None = None) -> bool:
        """Queues `reply` for `chat` unless a message with `key` was already queued.
        Returns whether it was queued now."""
        existing = await session.scalar(select(OutboxMessage.id).where(
            OutboxMessage.idempotency_key == key))
        if existing is not None:
            return False
        now = self.clock.now()
        session.add(OutboxMessage(
            idempotency_key=key, chat_key=chat.key(), text=reply.text,
            choices=[{"label": c.label, "value": c.value} for c in reply.choices],
            status=PENDING, attempts=0, not_before=not_before or now, created_at=now,
            source=source))
        await session.flush()
        return True

    async def deliver_pending(self, limit: int = 500) -> int:
        """Sends what is due, oldest first; returns how many were confirmed sent."""
        now = self.clock.now()
        async with self.db.session() as session:
            rows = list(await session.scalars(
                select(OutboxMessage).where(OutboxMessage.status == PENDING,
                                            OutboxMessage.not_before <= now)
                .order_by(OutboxMessage.id).limit(limit)))
        # Chats are served concurrently (each chat's messages in order) so that the transport's
        # pacing, not one slow or flood-controlled chat, sets the speed of a broadcast.
        by_chat: dict[str, list[OutboxMessage]] = {}
        for row in rows:
            by_chat.setdefault(row.chat_key, []).append(row)
        gate = asyncio.Semaphore(self.CONCURRENT_CHATS)

        async def deliver_chat(chat_rows: list[OutboxMessage]) -> int:
            async with gate:
                return sum([await self._deliver(row) for row in chat_rows])

        return sum(await asyncio.gather(*(deliver_chat(r) for r in by_chat.values())))

    async def _deliver(self, row: OutboxMessage) -> int:
        chat = ChatRef.parse(row.chat_key)
        result = await self.transports.send(chat, row.reply(), idempotency_key=row.idempotency_key)
        async with self.db.transaction() as session:
            fresh = await session.get(OutboxMessage, row.id)
            fresh.attempts += 1
            if result.ok:
                fresh.status, fresh.sent_at = SENT, self.clock.now()
                fresh.platform_message_id = result.message_id
                return 1
            fresh.last_error = (result.error or "unknown error")[:300]
            if result.permanent or fresh.attempts >= self.MAX_ATTEMPTS:
                fresh.status = FAILED
            else:
                backoff = timedelta(seconds=min(3600, 5 * 2 ** fresh.attempts))
                fresh.not_before = self.clock.now() + backoff
            log.warning("outbox send failed", extra={"fields": {
                "outbox_id": row.id, "attempt": fresh.attempts, "permanent": result.permanent}})
        return 0
