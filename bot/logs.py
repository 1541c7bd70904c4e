"""Structured logs: one line per event — time, level, logger, event, then key=value fields.
Callers pass only ids and counts in `extra={"fields": {...}}`, never message bodies, contact
details or tokens.

Libraries (python-telegram-bot, nio, httpx, aiohttp, apscheduler, SQLAlchemy …) dump requests,
responses and updates at DEBUG and INFO: message texts, people's names, the bot token, the
webhook secret. So whatever COORDBOT_LOG_LEVEL says, only our own `coordbot.*` loggers speak
below WARNING; a library's record is shown only from WARNING up, whichever library it is and
whatever level it set itself. Every line then passes `redact`, a last line of defence: the
exact secrets the process holds (`hide`), token-shaped strings, and the values of body and name
fields (`'text': …`, `"body": …`, `first_name=…`) are masked."""
from __future__ import annotations

import logging
import re
import sys
from typing import TextIO
from urllib.parse import quote

OWN_LOGGER = "coordbot"
LIBRARY_FLOOR = logging.WARNING
MASK = "[redacted]"
_MIN_HIDDEN = 6     # shorter values would mask ordinary words

_SECRETS = re.compile(r"(bot)?\d{6,12}:[A-Za-z0-9_-]{30,}|syt_[A-Za-z0-9_]+|"
                      r"(access_token|password|token|secret_token)=[^&\s]+")
# Fields whose values are bodies, names or secrets, in a dict, JSON or key=value dump.
BODY_KEYS = ("text", "caption", "body", "formatted_body", "first_name", "last_name", "username",
             "displayname", "display_name", "name", "title", "secret_token", "password",
             "access_token", "token")
_FIELDS = re.compile(
    r"""(?P<key>["']?\b(?:""" + "|".join(BODY_KEYS) + r""")\b["']?\s*[:=]\s*)"""
    r"""(?P<value>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s,;&'"{}\[\]()]+)""",
    re.IGNORECASE)
_hidden: set[str] = set()


def hide(*values: str) -> None:
    """Masks these exact values (a token, a password, the webhook secret) in every later log
    line, also in their URL-encoded form."""
    for value in values:
        if value and len(value) >= _MIN_HIDDEN:
            _hidden.update({value, quote(value, safe="")})


def redact(text: str) -> str:
    for value in sorted(_hidden, key=len, reverse=True):
        text = text.replace(value, MASK)
    text = _SECRETS.sub(MASK, text)
    return _FIELDS.sub(lambda m: m.group("key") + MASK, text)


def is_own(record: logging.LogRecord) -> bool:
    return record.name == OWN_LOGGER or record.name.startswith(OWN_LOGGER + ".")


class LibraryFloor(logging.Filter):
    """Handler filter: a library's record passes only from `floor` up (WARNING, or the
    configured level when that is higher)."""

    def __init__(self, floor: int = LIBRARY_FLOOR):
        super().__init__()
        self.floor = floor

    def filter(self, record: logging.LogRecord) -> bool:
        return is_own(record) or record.levelno >= self.floor


class KeyValueFormatter(logging.Formatter):
    """Masks each piece before quoting it, so that dumps are seen with their own quotes."""

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", {}) or {}
        parts = [self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), f"level={record.levelname.lower()}",
                 f"logger={record.name}", f"event={_quote(redact(record.getMessage()))}"]
        parts += [f"{key}={_quote(_field_value(key, value))}" for key, value in fields.items()]
        if record.exc_info and record.exc_info[0] is not None:
            parts.append(f"error={_quote(record.exc_info[0].__name__)}")
            parts.append(f"trace={_quote(redact(self.formatException(record.exc_info)))}")
        return redact(" ".join(parts))


def _field_value(key: str, value: object) -> str:
    return MASK if key.lower() in BODY_KEYS else redact(str(value))


def _quote(value: str) -> str:
    if value and not re.search(r"[\s\"=]", value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def configure_logging(level: str = "INFO", stream: TextIO | None = None) -> None:
    floor = max(LIBRARY_FLOOR, logging.getLevelName(level.upper()))
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    handler.addFilter(LibraryFloor(floor))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    # Libraries inherit the floor from the root (so they do not even build their dumps); the
    # handler filter holds for those that set a lower level of their own.
    root.setLevel(floor)
    set_level(level)


def set_level(level: str | int) -> None:
    """The level of our own loggers (COORDBOT_LOG_LEVEL)."""
    logging.getLogger(OWN_LOGGER).setLevel(level.upper() if isinstance(level, str) else level)
