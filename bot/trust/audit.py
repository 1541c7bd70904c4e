"""The audit log API. Any feature records a privileged action with

    from bot.trust import audit
    await audit.record(session, ctx.user.id, "broadcast.send", "broadcast:7", {"chats": 12})

inside the transaction of the action itself, so the entry exists if and only if the action
happened. `target` is a short typed id (`user:12`, `invitation:3`, `round:5`); `details` is a
JSON-serialisable dict of ids, codes and counts — never names, contact details or message text.
"""
from __future__ import annotations

from datetime import datetime, UTC

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.trust.models import AuditEntry

MAX_TARGET = 200


async def record(session: AsyncSession, actor_user_id: int | None, action: str, target: str = "",
                 details: dict | None = None, *, at: datetime | None = None) -> AuditEntry:
    entry = AuditEntry(at=at or datetime.now(UTC), actor_user_id=actor_user_id,
                       action=action[:60], target=(target or "")[:MAX_TARGET],
                       details=dict(details or {}))
    session.add(entry)
    await session.flush()
    return entry


async def latest(session: AsyncSession, limit: int = 20) -> list[AuditEntry]:
    return list(await session.scalars(
        select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)))


async def about_user(session: AsyncSession, user_id: int) -> list[AuditEntry]:
    """Entries where the person acted or was acted upon."""
    return list(await session.scalars(select(AuditEntry).where(or_(
        AuditEntry.actor_user_id == user_id, AuditEntry.target == user_target(user_id)))
        .order_by(AuditEntry.id)))


def user_target(user_id: int) -> str:
    return f"user:{user_id}"
