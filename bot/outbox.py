"""The outbox: every message the bot sends on its own initiative (reminders, broadcasts,
check-in questions and nudges) is first written here, in the same transaction as the change
that caused it, then delivered. A row is marked sent only after the platform confirmed it, and
its idempotency key (unique) means the same message cannot be queued twice.

Several instances may share one database: each delivery pass first *claims* the rows it will
send (one UPDATE over a `FOR UPDATE SKIP LOCKED` selection on PostgreSQL; SQLite serialises
writers), so no two instances send the same row. A claim expires after `claim_seconds`, so the
rows of an instance that died mid-pass are taken over by another.

A failed send is tried again later by the `outbox` retry policy. When a platform answers with a
`retry_after` (Telegram's HTTP 429, Matrix's `M_LIMIT_EXCEEDED`), that platform is paused: this
instance sends nothing more to it until the pause ends, its queued messages wait (no attempt
used), and the other platforms go on."""
from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime, timedelta

from sqlalchemy import (JSON, Integer, String, Text, func, insert, or_,
                        select,
                        update)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime
from bot.messages import ChatRef, Choice, Reply
from bot.people import utcnow
from bot.retry import OUTBOX, RetryPolicy
from bot.transports.base import SendResult

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
    not_before: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    platform_message_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # Who asked for it (a broadcast, a reminder occurrence): lets a feature report delivery.
    source: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    # The instance delivering it now, until when (see `Outbox._claim`).
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    def reply(self) -> Reply:
        return Reply(self.text, [Choice(c["label"], c["value"]) for c in self.choices or []])


class Outbox:
    CONCURRENT_CHATS = 50
    CLAIM_SECONDS = 60

    def __init__(self, db, transports, clock, instance_id: str | None = None,
                 claim_seconds: int = CLAIM_SECONDS, retry: RetryPolicy = OUTBOX):
        self.db = db
        self.transports = transports
        self.clock = clock
        self.instance_id = instance_id or uuid.uuid4().hex
        self.claim_seconds = claim_seconds
        self.retry = retry
        self._lock = asyncio.Lock()
        # platform → until when it asked us to send nothing (see `_pause`)
        self._paused_until: dict[str, datetime] = {}

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
                           items: list[tuple[ChatRef, Reply, str, str | None]]) -> set[str]:
        """`enqueue` for a fan-out (reminders due together, a check-in round opening for
        thousands): one query for the keys already queued and one bulk insert.
        Items are (chat, reply, key, source); returns the keys queued now."""
        keys = [key for _chat, _reply, key, _source in items]
        existing: set[str] = set()
        for start in range(0, len(keys), 500):
            existing.update(await session.scalars(select(OutboxMessage.idempotency_key).where(
                OutboxMessage.idempotency_key.in_(keys[start:start + 500]))))
        now = self.clock.now()
        rows, queued = [], set()
        for chat, reply, key, source in items:
            if key in existing or key in queued:
                continue
            queued.add(key)
            rows.append({"idempotency_key": key, "chat_key": chat.key(), "text": reply.text,
                         "choices": [{"label": c.label, "value": c.value} for c in reply.choices],
                         "status": PENDING, "attempts": 0, "not_before": now, "created_at": now,
                         "source": source})
        if rows:
            await session.execute(insert(OutboxMessage), rows)
        return queued

    async def waiting(self, chat_key: str) -> int:
        """How many messages are queued for one chat and not yet delivered."""
        async with self.db.session() as session:
            return await session.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.chat_key == chat_key, OutboxMessage.status == PENDING)) or 0

    async def deliver_pending(self, limit: int = 500) -> int:
        """Sends what is due, oldest first; returns how many were confirmed sent. One delivery
        pass at a time per process, so two triggers (the interval job, a feature that just
        queued something) never send a row twice."""
        async with self._lock:
            return await self._deliver_pending(limit)

    async def _deliver_pending(self, limit: int) -> int:
        rows = await self._claim(limit)
        by_chat: dict[str, list[OutboxMessage]] = {}
        for row in rows:
            by_chat.setdefault(row.chat_key, []).append(row)
        gate = asyncio.Semaphore(self.CONCURRENT_CHATS)

        # Chats are served concurrently, each chat's messages in order, so that the
        # transport's pacing (its own rate limiter), not one flood-controlled chat, sets the
        # speed of a broadcast.
        async def deliver_chat(chat_rows: list[OutboxMessage]) -> int:
            async with gate:
                sent = 0
                for index, row in enumerate(chat_rows):
                    until = self.paused_until(_platform_of(row.chat_key))
                    if until is not None:
                        # The rest of this chat waits too: its claims released in one write.
                        await self._write([_postponed(r, until) for r in chat_rows[index:]])
                        break
                    platform = _platform_of(row.chat_key)
                    result = await self._send(row)
                    if result.retry_after is not None and not result.ok:
                        self._pause(platform, result.retry_after)
                    # Written as soon as the platform confirmed it: an instance killed
                    # mid-pass leaves only the messages in flight to be sent again.
                    await self._write([self._outcome(row, result)])
                    sent += int(result.ok)
                return sent

        return sum(await asyncio.gather(*(deliver_chat(r) for r in by_chat.values())))

    async def _claim(self, limit: int) -> list[OutboxMessage]:
        """Marks up to `limit` due rows as this instance's for `claim_seconds` and returns
        them, oldest first. Only rows of chats this process can reach are taken; the others
        stay pending, with no attempt used, for the instance (or console) that serves them."""
        scope = self._scope_condition()
        if scope is None:
            return []
        now = self.clock.now()
        candidates = (select(OutboxMessage.id)
                      .where(OutboxMessage.status == PENDING, OutboxMessage.not_before <= now,
                             or_(OutboxMessage.claimed_until.is_(None),
                                 OutboxMessage.claimed_until < now), scope)
                      .order_by(OutboxMessage.id).limit(limit))
        if not self.db.is_sqlite:
            candidates = candidates.with_for_update(skip_locked=True)
        async with self.db.transaction() as session:
            claimed = await session.scalars(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(candidates.scalar_subquery()))
                .values(claimed_by=self.instance_id,
                        claimed_until=now + timedelta(seconds=self.claim_seconds))
                .returning(OutboxMessage)
                .execution_options(synchronize_session=False))
            rows = list(claimed)
        return sorted(rows, key=lambda row: row.id)

    def paused_until(self, platform: str) -> datetime | None:
        """The end of the pause `platform` asked for, while it lasts."""
        until = self._paused_until.get(platform)
        if until is not None and until <= self.clock.now():
            del self._paused_until[platform]
            return None
        return until

    def _pause(self, platform: str, seconds: float) -> None:
        until = self.clock.now() + timedelta(seconds=max(0.0, seconds))
        self._paused_until[platform] = max(until, self._paused_until.get(platform, until))
        log.warning("outbox platform paused", extra={"fields": {
            "platform": platform, "seconds": round(seconds, 1)}})

    def _scope_condition(self):
        conditions = []
        for platform, chats in self.transports.scopes():
            if self.paused_until(platform) is not None:
                continue   # its messages wait in the queue until the pause ends
            if chats is None:
                conditions.append(OutboxMessage.chat_key.startswith(f"{platform}:",
                                                                    autoescape=True))
            elif chats:
                conditions.append(OutboxMessage.chat_key.in_(sorted(chats)))
        return or_(*conditions) if conditions else None

    async def _send(self, row: OutboxMessage) -> SendResult:
        chat = ChatRef.parse(row.chat_key)
        try:
            return await self.transports.send(chat, row.reply(),
                                              idempotency_key=row.idempotency_key)
        except Exception as exc:  # noqa: BLE001 - a transport bug must not stop the outbox
            log.exception("transport raised", extra={"fields": {"outbox_id": row.id}})
            return SendResult(False, error=f"{type(exc).__name__}")

    def _outcome(self, row: OutboxMessage, result: SendResult) -> dict:
        now = self.clock.now()
        attempts = (row.attempts or 0) + 1
        released = {"claimed_by": None, "claimed_until": None}
        if result.ok:
            return {"id": row.id, "attempts": attempts, "status": SENT, "sent_at": now,
                    "platform_message_id": result.message_id, **released}
        change = {"id": row.id, "attempts": attempts,
                  "last_error": (result.error or "unknown error")[:300], **released}
        if result.retry_after is not None and not result.permanent:
            # The platform asked for a pause: never the message's fault, never its last try.
            change["not_before"] = now + timedelta(seconds=result.retry_after)
        elif result.permanent or attempts >= (self.retry.attempts or attempts + 1):
            change["status"] = FAILED
        else:
            change["not_before"] = now + timedelta(seconds=self.retry.due_in(attempts))
        log.warning("outbox send failed", extra={"fields": {
            "outbox_id": row.id, "attempt": attempts, "permanent": result.permanent,
            "error": (result.error or "")[:120]}})
        return change

    async def _write(self, updates: list[dict]) -> None:
        if not updates:
            return
        async with self.db.transaction() as session:
            await session.execute(update(OutboxMessage), updates)


def _platform_of(chat_key: str) -> str:
    return chat_key.partition(":")[0]


def _postponed(row: OutboxMessage, until: datetime) -> dict:
    """Back in the queue, unclaimed and due when its platform's pause ends; no attempt used."""
    return {"id": row.id, "not_before": until, "claimed_by": None, "claimed_until": None}
