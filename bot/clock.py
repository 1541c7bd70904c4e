"""Time comes from a clock object so that tests can move it."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bot.config import Settings


class Clock(Protocol):
    """What every part reads the time from: aware UTC datetimes."""

    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock tests set and advance by hand."""

    def __init__(self, start: datetime) -> None:
        self._now = start if start.tzinfo else start.replace(tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, moment: datetime) -> None:
        self._now = moment


class OffsetClock:
    """Real time shifted to start at a given instant: `COORDBOT_FAKE_NOW` for tests and demos
    that need a bot process living at another date (e.g. restarted "hours later")."""

    def __init__(self, start: datetime) -> None:
        self._offset = start - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset


def parse_instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def clock_from_settings(settings: Settings) -> SystemClock | OffsetClock:
    if settings.fake_now:
        return OffsetClock(parse_instant(settings.fake_now))
    return SystemClock()
