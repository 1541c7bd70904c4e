"""WHEN: the one time parser of the bot (reminders, meetings, deadlines, check-in rounds,
`/away`, dates typed as answers). Import from here:

    parse_when(text, locale, tz, now) -> When         a first time, maybe a recurrence
    parse_moment(text, tz, now, default_time=…) -> datetime   one instant (UTC)
    parse_date(text, today, future=True) -> date       one calendar date
    parse_span(text, today) -> (date, date)            two dates, or one day
    parse_month(text, today) -> date                    a month ("novembre 2026"): its 1st

Every refusal is a `WhenError` whose text (in the current language) quotes what could not be
read. No chat code here; `bot.when.recurrence` computes occurrences of a schedule."""
from bot.when.errors import WhenError
from bot.when.parser import (DEFAULT_TIME, END_OF_DAY, When, first_utc, parse_date,
                             parse_moment, parse_month, parse_span, parse_when)

__all__ = ["DEFAULT_TIME", "END_OF_DAY", "When", "WhenError", "first_utc", "parse_date",
           "parse_moment", "parse_month", "parse_span", "parse_when"]
