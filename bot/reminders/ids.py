"""The ids people type (`R12` for a reminder, `A7` for an action), the token naming one
occurrence in buttons and keys, and the short digest that keeps outbox keys bounded."""
from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from bot.db import as_utc


def short_id(schedule_id: int) -> str:
    return f"R{schedule_id}"


def parse_short_id(text: str) -> int | None:
    """`R12`, `r12`, `#12` and `12` all name reminder 12."""
    return parse_letter_id(text, "R")


def parse_letter_id(text: str, letter: str) -> int | None:
    """The number of a short id such as `R12` or `A7`, its letter and a `#` optional."""
    word = text.strip().lstrip("#").upper().removeprefix(letter)
    return int(word) if word.isdecimal() and len(word) < 10 else None


def occurrence_token(instant: datetime) -> str:
    return as_utc(instant).strftime("%Y%m%dT%H%M%SZ")


def parse_occurrence_token(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def digest(text: str) -> str:
    """16 hex digits of SHA-1: a chat key or a list of parts inside an idempotency key."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]
