"""The plain record of a directory entry, shared by the CSV format, the database models and
the search index (which must not hold ORM objects)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

ORG_TYPES = ("federal", "regional", "community", "provincial", "municipal", "cpas", "ngo",
             "international", "other")
STATUSES = ("active", "paused", "closed")
NAME_LANGUAGES = ("fr", "nl", "de", "en")
SERVICE_LANGUAGES = ("fr", "nl", "de", "en", "uk")


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
    services: dict[str, str] = field(default_factory=dict)  # `service` in fr/nl/de/en/uk
    hours: str = ""
    source: tuple[str, ...] = ()  # public pages the public facts were read on
    checked_on: date | None = None

    @property
    def has_direct_contact(self) -> bool:
        """A phone or an e-mail: a website alone does not reach a person."""
        return bool(self.phone or self.email)

    def service_in(self, lang: str | None) -> str:
        """The reader's language, else the first language the entry serves, else `service`."""
        for code in (lang, *self.languages):
            if code and self.services.get(code):
                return self.services[code]
        return self.service

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
