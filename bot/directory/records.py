"""The plain record of a directory entry, shared by the CSV format, the database models and
the search index (which must not hold ORM objects)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

ORG_TYPES = ("federal", "regional", "community", "provincial", "municipal", "cpas", "ngo",
             "international", "other")
STATUSES = ("active", "paused", "closed")
NAME_LANGUAGES = ("fr", "nl", "de", "en")


@dataclass(frozen=True)
class EntryRecord:
    id: str
    organisation: str
    topics: tuple[str, ...]
    coverage: tuple[str, ...]
    organisation_names: dict[str, str] = field(default_factory=dict)  # fr/nl/de/en
    acronym: str = ""
    org_type: str = ""
    service: str = ""
    keywords: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    contact_name: str = ""
    email: str = ""
    phone: str = ""
    url: str = ""
    address: str = ""
    matrix: str = ""
    telegram: str = ""
    status: str = "active"
    last_verified: date | None = None
    attributes: dict[str, str] = field(default_factory=dict)

    @property
    def is_active(self) -> bool:
        return (self.status or "active") == "active"

    def name_in(self, lang: str) -> str:
        return self.organisation_names.get(lang) or self.organisation

    @property
    def includes(self) -> tuple[str, ...]:
        return tuple(c for c in self.coverage if not c.startswith("-"))

    @property
    def excludes(self) -> tuple[str, ...]:
        return tuple(c[1:] for c in self.coverage if c.startswith("-"))
