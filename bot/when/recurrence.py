"""Occurrences of a schedule, computed in the schedule's own time zone.

A schedule stores its first occurrence as a *local wall-clock* time plus a time-zone name and
an RFC 5545 RRULE. Occurrences are generated as local times and only then converted to UTC,
so that "every Tuesday at 10:00" stays at 10:00 across daylight-saving changes (a fixed UTC
offset would drift by an hour twice a year)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, UTC
from functools import lru_cache
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

from bot.db import as_utc

# Bounds every walk over occurrences: a rule that yields nothing usable for this many
# candidates (e.g. everything excluded) is treated as finished rather than looping forever.
MAX_CANDIDATES = 5000
LOCAL_FORMAT = "%Y-%m-%dT%H:%M:%S"


# Occurrences are looked for this many years ahead at most.
SCAN_YEARS = 5




def local_to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    """A naive local wall-clock time to UTC. In the autumn overlap the first (summer-time)
    instant is used; in the spring gap the time moves forward by the gap (02:30 → 03:30)."""
    return local.replace(tzinfo=tz, fold=0).astimezone(UTC)


def format_local(local: datetime) -> str:
    return local.replace(tzinfo=None, microsecond=0).strftime(LOCAL_FORMAT)


def parse_local(text: str) -> datetime:
    return datetime.strptime(text, LOCAL_FORMAT)


@lru_cache(maxsize=16)
def belgian_holidays(year: int) -> frozenset[date]:
    import holidays
    return frozenset(holidays.country_holidays("BE", years=year).keys())


@dataclass(frozen=True)
class Recurrence:
    """What is needed to enumerate occurrences: first local time, zone, rule, exclusions."""

    start_local: datetime
    timezone: str
    rrule: str | None = None
    exdates: frozenset[datetime] = field(default_factory=frozenset)
    skip_holidays: bool = False

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def _local_candidates(self, after_local: datetime) -> Iterator[datetime]:
        if self.rrule is None:
            if self.start_local > after_local:
                yield self.start_local
            return
        rule = rrulestr(self.rrule, dtstart=self.start_local)
        if isinstance(rule, rrule) and rule._interval < 1:  # noqa: SLF001
            return  # "every 0 days": dateutil would repeat the first date for ever
        if isinstance(rule, rrule) and rule._count is None:  # noqa: SLF001
            # A rule that never matches (the 30th of February) would make dateutil scan up to
            # the year 9999: look no further than a few years ahead.
            horizon = after_local + timedelta(days=366 * SCAN_YEARS)
            until = rule._until  # noqa: SLF001
            rule = rule.replace(until=min(until, horizon) if until else horizon)
        yield from rule.xafter(after_local, count=MAX_CANDIDATES)

    def _excluded(self, local: datetime) -> bool:
        if local in self.exdates:
            return True
        return self.skip_holidays and local.date() in belgian_holidays(local.year)

    def after(self, moment: datetime, limit: int = MAX_CANDIDATES) -> Iterator[datetime]:
        """Occurrences strictly after `moment`, as aware UTC datetimes, in order."""
        tz = self.tz
        moment = as_utc(moment)
        # Start two hours early in local time: around the autumn change the same local hour
        # happens twice, so a naive comparison alone could skip an occurrence.
        after_local = moment.astimezone(tz).replace(tzinfo=None) - timedelta(hours=2)
        produced = 0
        for local in self._local_candidates(after_local):
            if produced >= limit:
                return
            if self._excluded(local):
                continue
            instant = local_to_utc(local, tz)
            if instant > moment:
                produced += 1
                yield instant

    def next_occurrences(self, moment: datetime, count: int) -> list[datetime]:
        found = []
        for instant in self.after(moment):
            found.append(instant)
            if len(found) >= count:
                break
        return found


@dataclass(frozen=True)
class Firing:
    """One moment to deliver: occurrence `occurrence` announced `lead` before it."""

    at: datetime
    occurrence: datetime
    lead: timedelta


def next_firings(recurrence: Recurrence, leads_minutes: list[int],
                 after: datetime) -> tuple[datetime, list[Firing]] | None:
    """The earliest delivery moment strictly after `after`, with every (occurrence, lead)
    that falls on it. Lead reminders of later occurrences can come before the main reminder
    of an earlier one, so candidates are compared rather than taken in order."""
    leads = sorted({0, *[int(m) for m in leads_minutes if int(m) > 0]})
    max_lead = timedelta(minutes=leads[-1])
    best: datetime | None = None
    group: list[Firing] = []
    # Every firing strictly after `after` belongs to an occurrence strictly after it.
    for occurrence in recurrence.after(after):
        if best is not None and occurrence - max_lead > best:
            break
        for minutes in leads:
            lead = timedelta(minutes=minutes)
            at = occurrence - lead
            if at <= after:
                continue
            if best is None or at < best:
                best, group = at, [Firing(at, occurrence, lead)]
            elif at == best:
                group.append(Firing(at, occurrence, lead))
    return (best, group) if best is not None else None
