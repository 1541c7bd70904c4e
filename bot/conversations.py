"""Pending conversations: a preview awaiting "confirm", a check-in halfway through. Stored in
the database so that a restart resumes them; one per (chat, person) at a time."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, UniqueConstraint, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base
from bot.people import utcnow

YES_WORDS = {"1", "yes", "y", "ok", "oui", "o", "ja", "j", "так", "confirm", "confirmer",
             "bevestigen", "bestätigen", "підтвердити"}
NO_WORDS = {"2", "no", "n", "non", "nee", "nein", "ні", "cancel", "annuler", "annuleren",
            "abbrechen", "скасувати"}


class PendingConversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("chat_key", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_key: Mapped[str] = mapped_column(String(300))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Conversations:
    """Start, find and end the pending conversation of a person in a chat."""

    def __init__(self, clock):
        self.clock = clock

    async def start(self, session: AsyncSession, chat_key: str, user_id: int, kind: str,
                    payload: dict, ttl: timedelta | None = timedelta(days=1)) -> PendingConversation:
        await self.end(session, chat_key, user_id)
        now = self.clock.now()
        pending = PendingConversation(chat_key=chat_key, user_id=user_id, kind=kind,
                                      payload=payload, created_at=now,
                                      expires_at=now + ttl if ttl else None)
        session.add(pending)
        await session.flush()
        return pending

    async def current(self, session: AsyncSession, chat_key: str,
                      user_id: int) -> PendingConversation | None:
        pending = await session.scalar(select(PendingConversation).where(
            PendingConversation.chat_key == chat_key, PendingConversation.user_id == user_id))
        if pending and pending.expires_at and _aware(pending.expires_at) < self.clock.now():
            await session.delete(pending)
            await session.flush()
            return None
        return pending

    async def update(self, session: AsyncSession, pending: PendingConversation, payload: dict) -> None:
        pending.payload = dict(payload)
        await session.flush()

    async def end(self, session: AsyncSession, chat_key: str, user_id: int) -> None:
        await session.execute(delete(PendingConversation).where(
            PendingConversation.chat_key == chat_key, PendingConversation.user_id == user_id))


def _aware(moment: datetime) -> datetime:
    from datetime import timezone
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def confirmation_answer(text: str) -> bool | None:
    """True for a yes-word or `1`, False for a no-word or `2`, None for anything else."""
    word = text.strip().lower().rstrip("!.")
    if word in YES_WORDS:
        return True
    if word in NO_WORDS:
        return False
    return None
