"""Reminder schedules, acknowledgements and broadcasts. The database is the source of truth:
scheduler jobs are derived from `Schedule.next_due` at start-up, never stored."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (JSON, Boolean, ForeignKey, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime
from bot.people import utcnow

KINDS = ("meeting", "deadline", "note")


class Schedule(Base):
    __tablename__ = "reminder_schedules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), default="note")
    title: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Brussels")
    # First occurrence as local wall-clock time ("2026-03-10T10:00:00") in `timezone`.
    start_local: Mapped[str] = mapped_column(String(19))
    # RFC 5545 RRULE without DTSTART ("FREQ=MONTHLY;BYDAY=+2TU"); None for a one-off.
    rrule: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # Minutes before each occurrence at which an extra reminder goes out.
    leads_minutes: Mapped[list] = mapped_column(JSON, default=list)
    # Audience tokens: "chat:telegram:-100…", "all", "role:focal_point", "org:ID", "user:17".
    audience: Mapped[list] = mapped_column(JSON, default=list)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    origin_chat: Mapped[str] = mapped_column(String(300))
    # Skipped occurrences, local wall-clock times like start_local (RFC 5545 EXDATE).
    exdates: Mapped[list] = mapped_column(JSON, default=list)
    skip_holidays: Mapped[bool] = mapped_column(Boolean, default=False)
    # The next delivery moment (an occurrence or one of its lead reminders), UTC.
    next_due: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True,
                                                      index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Acknowledgement(Base):
    """One person's answer to one occurrence: attend / absent (meetings), done (deadlines)."""

    __tablename__ = "reminder_acks"
    __table_args__ = (UniqueConstraint("schedule_id", "occurrence", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("reminder_schedules.id", ondelete="CASCADE"), index=True)
    occurrence: Mapped[datetime] = mapped_column(UTCDateTime())
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    answer: Mapped[str] = mapped_column(String(10))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Broadcast(Base):
    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    sender_chat: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    audience: Mapped[list] = mapped_column(JSON, default=list)
    # Recipients that could not be queued at all (no chat known), with the reason code.
    unreachable: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
