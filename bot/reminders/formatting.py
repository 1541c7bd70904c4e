"""Dates and durations as the reader writes them, in the current language."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from functools import lru_cache

from babel import Locale
from babel.dates import format_datetime

from bot.i18n import current_locale, ngettext

BABEL_LOCALES = {"en": "en_GB", "fr": "fr_BE", "nl": "nl_BE", "de": "de_BE", "uk": "uk_UA"}


def moment(instant: datetime, tz: str) -> str:
    """`Tue 10 Mar 2026, 10:00` in the reader's language and time zone. An instant so close
    to the ends of the calendar that it has no local time (year 9999, year 1) is written in
    UTC rather than crashing whatever lists it."""
    locale = _babel_locale(current_locale())
    local = _local(instant, tz)
    if local is None:
        return format_datetime(instant.replace(tzinfo=None), "EEE d MMM y, HH:mm 'UTC'",
                               locale=locale)
    return format_datetime(local, "EEE d MMM y, HH:mm", locale=locale)


def _local(instant: datetime, tz: str) -> datetime | None:
    try:
        return instant.astimezone(ZoneInfo(tz))
    except (OverflowError, ValueError):
        return None


@lru_cache(maxsize=8)
def _babel_locale(code: str) -> Locale:
    """Parsed once: babel re-reads its locale data for every string locale it is given."""
    return Locale.parse(BABEL_LOCALES.get(code, "en_GB"))


def clock_time(instant: datetime, tz: str, now: datetime | None = None) -> str:
    """`10:00`, or `Tue 10 Mar 2026, 10:00` when it is not today for the reader."""
    local = _local(instant, tz)
    if local is None or (now is not None and now.astimezone(ZoneInfo(tz)).date() != local.date()):
        return moment(instant, tz)
    return local.strftime("%H:%M")


def duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes % 1440 == 0:
        days = minutes // 1440
        return ngettext("{n} day", "{n} days", days).format(n=days)
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("{n} hour", "{n} hours", hours).format(n=hours)
    return ngettext("{n} minute", "{n} minutes", minutes).format(n=minutes)
