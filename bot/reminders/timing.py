"""When a schedule fires: its recurrence, its next due moment (early reminders included), and
the scheduler's time for an instant of the bot's clock."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.reminders.models import Schedule
from bot.when.recurrence import Recurrence, next_firings, parse_local

if TYPE_CHECKING:
    from bot.clock import Clock


def recurrence_of(schedule: Schedule) -> Recurrence:
    return Recurrence(parse_local(schedule.start_local), schedule.timezone, schedule.rrule,
                      frozenset(parse_local(x) for x in schedule.exdates or []),
                      bool(schedule.skip_holidays))


def set_next_due(schedule: Schedule, after: datetime) -> None:
    """The first firing after `after` (an early reminder or the occurrence itself); a schedule
    with none left becomes inactive."""
    found = next_firings(recurrence_of(schedule), schedule.leads_minutes or [], after)
    schedule.next_due = found[0] if found else None
    schedule.active = found is not None


def scheduler_time(instant: datetime, clock: Clock) -> datetime:
    """The scheduler runs on the real clock; a test or demo clock may be offset from it."""
    real_now = datetime.now(UTC)
    return instant - clock.now() + real_now
