"""What a meeting leaves behind. One table for the three kinds of item, because they share
everything but the action's owner, due date and status; an occurrence is the meeting's local
date in the series' time zone ("2026-03-10")."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime
from bot.people import utcnow

AGENDA, DECISION, ACTION = "agenda", "decision", "action"
OPEN, DONE, DECLINED = "open", "done", "declined"


class MeetingItem(Base):
    __tablename__ = "meeting_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("reminder_schedules.id", ondelete="CASCADE"), index=True)
    occurrence: Mapped[str] = mapped_column(String(10), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Actions only. The owner as audience tokens (bot/audience.py): "user:7", "org:cpas-namur",
    # "role:focal_point&area:50000".
    owner: Mapped[list] = mapped_column(JSON, default=list)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True,
                                                    index=True)
    status: Mapped[str | None] = mapped_column(String(10), nullable=True, index=True)
    closed_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Follow-up already queued for the current due date (reset when it moves).
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
