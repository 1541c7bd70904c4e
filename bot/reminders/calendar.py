"""`/calendar`: the person's meetings and deadlines as an iCalendar file, recurrences kept as
RRULE/EXDATE so Outlook and others show the whole series."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Todo, vRecur

from bot.reminders.models import Schedule
from bot.when.recurrence import parse_local

MEETING_LENGTH = timedelta(hours=1)
DEADLINE_LENGTH = timedelta(minutes=15)


def calendar_ics(schedules: list[Schedule], now: datetime, host: str = "coordbot",
                 todos: Sequence[Any] = ()) -> bytes:
    """`todos`: action points (bot/meetings) with `id`, `text`, `due_at`, `status`."""
    calendar = Calendar()
    calendar.add("prodid", "-//coordbot//reminders//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "coordbot")
    for schedule in schedules:
        calendar.add_component(_event(schedule, now, host))
    for item in todos:
        calendar.add_component(_todo(item, now, host))
    try:
        calendar.add_missing_timezones()  # VTIMEZONE blocks, which Outlook needs
    except AttributeError:  # icalendar < 6: clients fall back to the TZID name
        pass
    return calendar.to_ical()


def _event(schedule: Schedule, now: datetime, host: str) -> Event:
    zone = ZoneInfo(schedule.timezone)
    start = parse_local(schedule.start_local).replace(tzinfo=zone)
    event = Event()
    event.add("uid", f"reminder-{schedule.id}@{host}")
    event.add("dtstamp", now)
    event.add("summary", schedule.title)
    event.add("description", schedule.message)
    event.add("dtstart", start)
    event.add("dtend", start + (MEETING_LENGTH if schedule.kind == "meeting" else DEADLINE_LENGTH))
    event.add("categories", [schedule.kind])
    if schedule.rrule:
        event.add("rrule", vRecur.from_ical(schedule.rrule))
        for text in schedule.exdates or []:
            event.add("exdate", parse_local(text).replace(tzinfo=zone))
    return event


TODO_STATUS = {"open": "NEEDS-ACTION", "done": "COMPLETED", "declined": "CANCELLED"}


def _todo(item, now: datetime, host: str) -> Todo:
    todo = Todo()
    todo.add("uid", f"action-{item.id}@{host}")
    todo.add("dtstamp", now)
    todo.add("summary", item.text)
    todo.add("due", item.due_at)
    todo.add("status", TODO_STATUS.get(item.status, "NEEDS-ACTION"))
    return todo
