"""Retention: a daily job runs every registered task. A feature registers its own with

    services.trust.retention.register("checkins.raw_answers", purge_old_answers)

where `async def purge_old_answers(session, now) -> int` deletes or anonymises what is older
than its retention period and returns how many rows it touched. Each task runs in its own
transaction: one failing task neither blocks nor rolls back the others."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from collections.abc import Awaitable, Callable

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.conversations import PendingConversation
from bot.db import Database
from bot.outbox import FAILED, SENT, OutboxMessage
from bot.rowcount import rows_touched
from bot.trust.models import AuditEntry

log = logging.getLogger("coordbot.trust")

RetentionTask = Callable[[AsyncSession, datetime], Awaitable[int]]
JOB_ID = "trust.retention"


class Retention:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.tasks: dict[str, RetentionTask] = {}

    def register(self, name: str, task: RetentionTask) -> None:
        if name in self.tasks:
            raise ValueError(f"retention task {name!r} registered twice")
        self.tasks[name] = task

    async def run_due(self) -> dict[str, int]:
        """Runs every task once; returns rows touched per task (-1 when a task failed)."""
        done: dict[str, int] = {}
        for name, task in self.tasks.items():
            try:
                async with self.db.transaction() as session:
                    done[name] = int(await task(session, self.clock.now()) or 0)
            except Exception:  # noqa: BLE001 - one broken task must not stop the others
                log.exception("retention task failed", extra={"fields": {"task": name}})
                done[name] = -1
        log.info("retention done", extra={"fields": done})
        return done


def purge_audit(days: int) -> RetentionTask:
    async def task(session: AsyncSession, now: datetime) -> int:
        result = await session.execute(delete(AuditEntry).where(
            AuditEntry.at < now - timedelta(days=days)))
        return rows_touched(result)
    return task


def blank_old_outbox(days: int) -> RetentionTask:
    """Delivered messages keep their row (its idempotency key stops a re-send) but lose their
    text after `days`."""
    async def task(session: AsyncSession, now: datetime) -> int:
        result = await session.execute(update(OutboxMessage).where(
            OutboxMessage.status.in_([SENT, FAILED]), OutboxMessage.created_at < now - timedelta(
                days=days), OutboxMessage.text != "").values(text="", choices=[]))
        return rows_touched(result)
    return task


async def purge_expired_conversations(session: AsyncSession, now: datetime) -> int:
    result = await session.execute(delete(PendingConversation).where(
        PendingConversation.expires_at < now))
    return rows_touched(result)
