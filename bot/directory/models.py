"""Database models of the directory: organisations and their entries (what, where, contact,
languages, status, freshness). The search never reads these per query: see `index.py`."""
from __future__ import annotations

import hashlib
from datetime import date, datetime, UTC

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db import Base, UTCDateTime
from bot.directory.records import NAME_LANGUAGES, SERVICE_LANGUAGES, EntryRecord


def utcnow() -> datetime:
    return datetime.now(UTC)


class Organisation(Base):
    __tablename__ = "directory_organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The same names, acronym and type make the same organisation (entries share it).
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(Text)
    name_fr: Mapped[str] = mapped_column(Text, default="")
    name_nl: Mapped[str] = mapped_column(Text, default="")
    name_de: Mapped[str] = mapped_column(Text, default="")
    name_en: Mapped[str] = mapped_column(Text, default="")
    acronym: Mapped[str] = mapped_column(Text, default="")
    org_type: Mapped[str] = mapped_column(String(20), default="")
    entries: Mapped[list[DirectoryEntry]] = relationship(back_populates="organisation",
                                                           lazy="raise")

    @staticmethod
    def key_of(record: EntryRecord) -> str:
        parts = [record.organisation] + [record.organisation_names.get(lang, "")
                                         for lang in NAME_LANGUAGES]
        parts += [record.acronym, record.org_type]
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


class DirectoryEntry(Base):
    __tablename__ = "directory_entries"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("directory_organisations.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    service: Mapped[str] = mapped_column(Text, default="")
    topics: Mapped[list] = mapped_column(JSON, default=list)
    coverage: Mapped[list] = mapped_column(JSON, default=list)
    keywords: Mapped[list] = mapped_column(JSON, default=list)
    languages: Mapped[list] = mapped_column(JSON, default=list)
    contact_name: Mapped[str] = mapped_column(Text, default="")
    email: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(Text, default="")
    matrix: Mapped[str] = mapped_column(Text, default="")
    telegram: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="active")
    last_verified: Mapped[date | None] = mapped_column(Date, nullable=True)
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)
    # When the focal point was last asked to confirm the entry (so it is asked once per period).
    verification_requested_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), nullable=True)
    # When the focal point answered "needs changes" (cleared by their next confirmation).
    changes_requested_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    organisation: Mapped[Organisation] = relationship(back_populates="entries", lazy="joined")

    def to_record(self) -> EntryRecord:
        org = self.organisation
        names = {lang: getattr(org, f"name_{lang}") for lang in NAME_LANGUAGES
                 if getattr(org, f"name_{lang}")}
        return EntryRecord(
            id=self.id, organisation=org.name, organisation_names=names, acronym=org.acronym,
            org_type=org.org_type, service=self.service, topics=tuple(self.topics or ()),
            coverage=tuple(self.coverage or ()), keywords=tuple(self.keywords or ()),
            languages=tuple(self.languages or ()), contact_name=self.contact_name,
            email=self.email, phone=self.phone, url=self.url, address=self.address,
            matrix=self.matrix, telegram=self.telegram, status=self.status,
            last_verified=self.last_verified, **_public_facts_from(self.attributes or {}))

    def apply(self, record: EntryRecord, organisation: Organisation, position: int,
              now: datetime) -> None:
        self.organisation = organisation
        self.position = position
        for name in ("service", "contact_name", "email", "phone", "url", "address", "matrix",
                     "telegram", "status", "last_verified"):
            setattr(self, name, getattr(record, name))
        self.topics = list(record.topics)
        self.coverage = list(record.coverage)
        self.keywords = list(record.keywords)
        self.languages = list(record.languages)
        self.attributes = _public_facts_into(record)
        self.updated_at = now


# The translated service texts, hours, sources and check date are kept in the `attributes` JSON
# under their CSV column names (as a file with those columns was stored before they were known
# columns), so that no schema change is needed for them.
_FACT_KEYS = tuple(f"service_{lang}" for lang in SERVICE_LANGUAGES) + ("hours", "source",
                                                                        "checked_on")


def _public_facts_into(record: EntryRecord) -> dict:
    stored = {k: v for k, v in record.attributes.items() if k not in _FACT_KEYS}
    stored.update({f"service_{lang}": text for lang, text in record.services.items()})
    if record.hours:
        stored["hours"] = record.hours
    if record.source:
        stored["source"] = ";".join(record.source)
    if record.checked_on:
        stored["checked_on"] = record.checked_on.isoformat()
    return stored


def _public_facts_from(stored: dict) -> dict:
    checked = stored.get("checked_on", "")
    try:
        checked_on = date.fromisoformat(checked[:10]) if checked else None
    except ValueError:
        checked_on = None
    return {
        "attributes": {k: v for k, v in stored.items() if k not in _FACT_KEYS},
        "services": {lang: stored[f"service_{lang}"] for lang in SERVICE_LANGUAGES
                     if stored.get(f"service_{lang}")},
        "hours": stored.get("hours", ""),
        "source": tuple(p for p in stored.get("source", "").split(";") if p),
        "checked_on": checked_on,
    }


def organisation_from(record: EntryRecord) -> Organisation:
    names = record.organisation_names
    return Organisation(key=Organisation.key_of(record), name=record.organisation,
                        name_fr=names.get("fr", ""), name_nl=names.get("nl", ""),
                        name_de=names.get("de", ""), name_en=names.get("en", ""),
                        acronym=record.acronym, org_type=record.org_type)


class LastQuery(Base):
    """The last directory question of a person in a chat, so that `/more` can page on."""

    __tablename__ = "directory_last_queries"
    __table_args__ = (UniqueConstraint("chat_key", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_key: Mapped[str] = mapped_column(String(300))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    query: Mapped[str] = mapped_column(Text)
    place: Mapped[str | None] = mapped_column(String(10), nullable=True)
    shown: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
