"""The outbox: every message the bot sends on its own initiative (reminders, broadcasts,
check-in questions and nudges) is first written here, in the same transaction as the change
that caused it, then delivered. A row is marked sent only after the platform confirmed it, and
its idempotency key (unique) means the same message cannot be queued twice."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import JSON, DateTime, Integer, String, Text, insert, select
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

    async def enqueue_many(self, session: AsyncSession,
                           items: list[tuple[ChatRef, Reply, str]], *,
                           source: str | None = None) -> int:
        """`enqueue` for a fan-out (a check-in round opening for thousands of people): one
        query for the keys already queued and one bulk insert. Returns how many were queued."""
        keys = [key for _chat, _reply, key in items]
        existing: set[str] = set()
        for start in range(0, len(keys), 500):
            existing.update(await session.scalars(select(OutboxMessage.idempotency_key).where(
                OutboxMessage.idempotency_key.in_(keys[start:start + 500]))))
        now = self.clock.now()
        rows, seen = [], set(existing)
        for chat, reply, key in items:
            if key in seen:
                continue
            seen.add(key)
            rows.append({"idempotency_key": key, "chat_key": chat.key(), "text": reply.text,
                         "choices": [{"label": c.label, "value": c.value} for c in reply.choices],
                         "status": PENDING, "attempts": 0, "not_before": now, "created_at": now,
                         "source": source})
        if rows:
            await session.execute(insert(OutboxMessage), rows)
        return len(rows)

    async def deliver_pending(self, limit: int = 500) -> int:
        """Sends what is due, oldest first; returns how many were confirmed sent."""
        now = self.clock.now()
        async with self.db.session() as session:
            rows = list(await session.scalars(
                select(OutboxMessage).where(OutboxMessage.status == PENDING,
                                            OutboxMessage.not_before <= now)
                .order_by(OutboxMessage.id).limit(limit)))
        sent = 0
        for row in rows:
            sent += await self._deliver(row)
        return sent

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
