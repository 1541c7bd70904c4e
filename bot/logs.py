"""Structured logs: one line per event — time, level, logger, event, then key=value fields.
Callers pass only ids and counts in `extra={"fields": {...}}`, never message bodies, contact
details or tokens; `redact` is a last line of defence for tokens that slip into a message."""
from __future__ import annotations

import logging
import re
import sys

_SECRETS = re.compile(r"(bot)?\d{6,12}:[A-Za-z0-9_-]{30,}|syt_[A-Za-z0-9_]+|"
                      r"(access_token|password|token)=[^&\s]+")


def redact(text: str) -> str:
    return _SECRETS.sub("[redacted]", text)


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", {}) or {}
        parts = [self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), f"level={record.levelname.lower()}",
                 f"logger={record.name}", f"event={_quote(record.getMessage())}"]
        parts += [f"{key}={_quote(str(value))}" for key, value in fields.items()]
        if record.exc_info:
            parts.append(f"error={_quote(record.exc_info[0].__name__)}")
            parts.append(f"trace={_quote(self.formatException(record.exc_info))}")
        return redact(" ".join(parts))


def _quote(value: str) -> str:
    if value and not re.search(r"[\s\"=]", value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def configure_logging(level: str = "INFO", stream=None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Libraries log request URLs, which for Telegram contain the token.
    for noisy in ("httpx", "httpcore", "aiosqlite", "asyncio", "apscheduler",
                  "telegram.ext", "nio", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
