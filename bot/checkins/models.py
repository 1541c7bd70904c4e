"""Check-in tables: forms, rounds, one assignment per person and round (their answers and
where they are in the form), declared absences."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime
from bot.people import utcnow

# Round statuses
SCHEDULED, OPEN, CLOSED = "scheduled", "open", "closed"
# Assignment statuses
WAITING, ANSWERING, SUBMITTED = "waiting", "answering", "submitted"


class CheckinForm(Base):
    __tablename__ = "checkin_forms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    definition: Mapped[dict] = mapped_column(JSON)
    version: Mapped[str] = mapped_column(String(60), default="")
    source: Mapped[str] = mapped_column(String(200), default="")
    # sha256 of the file it was loaded from: start-up skips files that did not change.
    source_hash: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CheckinRound(Base):
    __tablename__ = "checkin_rounds"
    __table_args__ = (UniqueConstraint("form_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("checkin_forms.id", ondelete="CASCADE"),
                                         index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, 3… per form, as people name rounds
    # The form as it was when the round was opened: later edits of the form do not change it.
    definition: Mapped[dict] = mapped_column(JSON)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    audience: Mapped[str] = mapped_column(String(500))
    report_chat: Mapped[str | None] = mapped_column(String(300), nullable=True)
    nudge_times: Mapped[list] = mapped_column(JSON, default=list)  # ISO UTC datetimes
    status: Mapped[str] = mapped_column(String(12), default=SCHEDULED, index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                   nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # After the retention period the raw answers are dropped and only these remain.
    aggregates: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    reduced_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class CheckinAssignment(Base):
    """One person asked in one round: their answers so far, where they are, and whether and
    when they submitted."""

    __tablename__ = "checkin_assignments"
    __table_args__ = (UniqueConstraint("round_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("checkin_rounds.id", ondelete="CASCADE"),
                                          index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    chat_key: Mapped[str | None] = mapped_column(String(300), nullable=True)
    status: Mapped[str] = mapped_column(String(12), default=WAITING, index=True)
    answers: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # as submitted
    # The answers being written (first time, or an edit of submitted answers): kept in the
    # database so that a restart resumes at the same question with nothing lost.
    draft: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    current: Mapped[int] = mapped_column(Integer, default=0)  # index into the form's questions
    confirming: Mapped[bool] = mapped_column(Boolean, default=False)
    region: Mapped[str | None] = mapped_column(String(60), nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    nudges_done: Mapped[int] = mapped_column(Integer, default=0)  # nudge slots handled
    nudges_sent: Mapped[int] = mapped_column(Integer, default=0)


class CheckinAbsence(Base):
    __tablename__ = "checkin_absences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

