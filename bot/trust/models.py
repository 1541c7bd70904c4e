"""Tables of the trust package. Audit entries and invitations refer to people by user id
only (no foreign key), so that erasing a person leaves an anonymous id in the history."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime
from bot.people import utcnow

REGISTER, LINK = "register", "link"


class Invitation(Base):
    """A one-time code. `register` codes give the redeemer a role, organisation and entry;
    `link` codes move the redeeming chat identity to the account `user_id`. Only the
    SHA-256 of the code is stored."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(10), default=REGISTER)
    role: Mapped[str | None] = mapped_column(String(20), nullable=True)
    organisation_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    entry_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    used_by: Mapped[int | None] = mapped_column(Integer, nullable=True)


class RegistrationFailure(Base):
    """A wrong, expired or used code sent by one chat identity: the guessing limit counts them."""

    __tablename__ = "registration_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identity: Mapped[str] = mapped_column(String(300), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuditEntry(Base):
    """Who (user id) did what (`role.change`, `invitation.create`, ...) to what
    (`user:12`, `invitation:3`), when. `details` holds ids, codes and counts, never names,
    contact details or message bodies."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str] = mapped_column(String(200), default="", index=True)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
