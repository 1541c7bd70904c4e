"""What the parts of check-ins share: the error a person is told about, the clock they read,
and each person's language and time zone."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.people import User

FALLBACK_TIMEZONE = "Europe/Brussels"


class CheckinError(ValueError):
    """A request check-ins refuse; the message is the translated reason for the person."""


def locale_of(user: User, default_locale: str) -> str:
    return user.locale or default_locale


def tz_of(user: User | None, default_timezone: str) -> ZoneInfo:
    """The person's time zone, else the bot's; a name the system does not know falls back to
    Brussels rather than failing a message."""
    try:
        return ZoneInfo((user.timezone if user else None) or default_timezone)
    except (ValueError, KeyError):
        return ZoneInfo(FALLBACK_TIMEZONE)
