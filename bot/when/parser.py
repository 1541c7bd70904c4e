"""Reading a time as people write it in Belgium, in French, Dutch, German, English and
Ukrainian: day first ("5/3" is 5 March), days and months in words ("jeudi prochain à 16h",
"dinsdag 8 december om 17u"), times as `14h`, `14u30`, `14.30`, `14 Uhr`, `3pm`, `midi`, relative
times ("in 30 seconds", "dans 2 heures", "over twee weken"), recurrences ("tous les 2e mardis du
mois à 10h"), lead times ("1 day before") and "except public holidays".

Four entry points share one reading:
- `parse_when`: reminders, meetings, deadlines (a first time, maybe a recurrence);
- `parse_moment`: one instant (a check-in round's deadline or opening);
- `parse_date`: one calendar date (an absence, a date typed as an answer);
- `parse_span`: two dates (`/away FROM TO`).

Nothing is silently dropped: a word the parser does not know is quoted back to the person
(`WhenError`, translated) with the closest word it knows. A date without a year is the next
such date; `dateutil.rrule` computes occurrences of recurrences."""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, UTC
from zoneinfo import ZoneInfo


from bot.i18n import _
from bot.when import errors, times
from bot.when.errors import WhenError, unreadable
from bot.when.recurrence import Recurrence, format_local, local_to_utc, parse_local
from bot.when.repeat import is_recurring, recurrence_start, rule_of
from bot.when.words import (DAY_MONTH, FILLERS, ISO_DATE, MONTH_DAY, MONTH_END, MONTHS,
                            NEXT_WORDS, NUMERIC_DATE, PHRASES, RELATIVE_DAYS, RELATIVE_PART,
                            UNITS, WEEKDAY_INDEX, WEEKDAYS, alternation, fold)

MIN_INTERVAL = timedelta(minutes=5)
DEFAULT_TIME = time(9, 0)
END_OF_DAY = time(23, 59)
SHOWN = "%d/%m/%Y %H:%M"
MONTH_YEAR = re.compile(rf"({alternation(MONTHS)})\.?(?:\s+(\d{{4}}))?")
NUMERIC_MONTH = re.compile(r"(\d{1,2})[/.-](\d{4})")
ISO_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
MAX_SPAN_WORDS = 12  # two dates are never longer; bounds the work on hostile input


@dataclass(frozen=True)
class When:
    start_local: datetime
    timezone: str
    rrule: str | None = None
    leads_minutes: tuple[int, ...] = ()
    skip_holidays: bool = False
    exdates: tuple[str, ...] = field(default_factory=tuple)
    # "in 30 seconds": counted again from the moment the person confirms
    offset_seconds: int | None = None

    @property
    def recurring(self) -> bool:
        return self.rrule is not None

    def recurrence(self) -> Recurrence:
        return Recurrence(self.start_local, self.timezone, self.rrule,
                          frozenset(parse_local(x) for x in self.exdates), self.skip_holidays)

    def settled(self, now: datetime) -> When:
        """A relative time counts from when it is confirmed, not from when it was typed."""
        if self.offset_seconds is None:
            return self
        start = now + timedelta(seconds=self.offset_seconds)
        return replace(self, start_local=_local(start, ZoneInfo(self.timezone)))

    def as_dict(self) -> dict:
        return {"start_local": format_local(self.start_local), "timezone": self.timezone,
                "rrule": self.rrule, "leads_minutes": list(self.leads_minutes),
                "skip_holidays": self.skip_holidays, "offset_seconds": self.offset_seconds}

    @classmethod
    def from_dict(cls, data: dict) -> When:
        return cls(parse_local(data["start_local"]), data["timezone"], data.get("rrule"),
                   tuple(data.get("leads_minutes") or ()), bool(data.get("skip_holidays")),
                   offset_seconds=data.get("offset_seconds"))


# --- entry points -----------------------------------------------------------------------------

def parse_when(text: str, locale: str, tz: str, now: datetime) -> When:
    """Reads WHEN for a person living in time zone `tz`, at instant `now`. (`locale` is kept
    for callers; every language is read whatever the person's language.)"""
    zone = ZoneInfo(tz)
    original = text.strip()
    work = _prepare(original)
    work, leads = times.take_leads(work)
    work, skip_holidays = times.take_holidays(work)
    instant = times.relative(work, now, original)
    if instant is not None:
        offset = int((instant - now).total_seconds())
        when = When(_local(instant, zone), tz, None, leads, skip_holidays, offset_seconds=offset)
        return _checked(when, original, now)
    work, at = times.take_time(work, original)
    if is_recurring(times.tokens(work)):
        rule = rule_of(times.tokens(work), original)
        when = When(recurrence_start(rule, at, _local(now, zone)), tz, rule, leads, skip_holidays)
    else:
        when = When(_one_off(work, at, _local(now, zone), original, DEFAULT_TIME), tz, None,
                    leads, skip_holidays)
    return _checked(when, original, now)


def parse_moment(text: str, tz: str, now: datetime, *, default_time: time = DEFAULT_TIME,
                 allow_past: bool = False) -> datetime:
    """One instant (aware, UTC): "vendredi 12h", "vrijdag 11 december om 17u", "in 3 days".
    A date alone means `default_time` that day."""
    zone = ZoneInfo(tz)
    original = text.strip()
    work = _prepare(original)
    instant = times.relative(work, now, original)
    if instant is not None:
        return instant.astimezone(UTC)
    work, at = times.take_time(work, original)
    if is_recurring(times.tokens(work)):
        raise WhenError(_("Give one date and time here, not a repetition."))
    local = _one_off(work, at, _local(now, zone), original, default_time)
    instant = local_to_utc(local, zone)
    if instant <= now and not allow_past:
        raise errors.in_the_past(local.strftime(SHOWN))
    return instant


def parse_date(text: str, today: date, *, future: bool = True) -> date:
    """One calendar date: "24/12", "24 décembre", "demain", "vrijdag", "2026-12-24".
    Without a year it is the next such date (`future`) or the one of this year."""
    original = text.strip()
    work = _prepare(original)
    noon = datetime.combine(today, time(12))
    instant = times.relative(work, noon, original)
    if instant is not None:
        return instant.date()
    work, at = times.take_time(work, original)
    relative = RELATIVE_PART.search(work)
    day: date | None
    if relative:
        day = times.shifted(noon, relative.group(1), original).date()
        rest = times.cut(work, relative)
    else:
        day, rest, _roll = _date_of(work, datetime.combine(today, time(0)), original, future)
    _no_leftovers(rest, original)
    if at is not None:
        raise WhenError(_("Give a date without a time here, for example \"24/12\" or "
                          "\"24 December\".") + " " + _("I read \"{text}\" as a time.").format(
                              text=original[:40]))
    if day is None:
        raise unreadable(original)
    return day


def parse_month(text: str, today: date) -> date:
    """A month, "novembre 2026", "nov. 2026", "11/2026", "2026-11": its first day. Without a
    year, this year's (for answers such as "the month of arrival")."""
    original = text.strip()
    work = _prepare(original).strip(" .")
    match = MONTH_YEAR.fullmatch(work)
    if match:
        month = int(MONTHS[match.group(1)])
        return _valid_date(int(match.group(2) or today.year), month, 1, original)
    match = NUMERIC_MONTH.fullmatch(work)
    if match:
        month, year = (int(g) for g in match.groups())
        return _valid_date(year, month, 1, original)
    match = ISO_MONTH.fullmatch(work)
    if match:
        year, month = (int(g) for g in match.groups())
        return _valid_date(year, month, 1, original)
    unknown = [t for t in times.tokens(work) if t not in MONTHS and not t.isdecimal()]
    raise unreadable(original, unknown[0] if unknown else None)


SPAN_SEPARATOR = re.compile(
    r"\s+(?:-|–|—|au|à|a|jusqu['’]au|tot en met|t/m|tot|bis|to|until|till|through|до|по)\s+",
    re.IGNORECASE)
SPAN_START = re.compile(r"^(?:du|van|vom|von|from|від|з)\s+", re.IGNORECASE)


def parse_span(text: str, today: date) -> tuple[date, date]:
    """Two dates, "24/12 2/1", "du 24 décembre au 2 janvier", "van 24/12 tot 2/1", or one
    date (a single day). The end is read from the start: "lundi vendredi" is that week."""
    original = SPAN_START.sub("", text.strip())
    parts = SPAN_SEPARATOR.split(original, maxsplit=1)
    if len(parts) == 2:
        start = parse_date(parts[0], today)
        return start, parse_date(parts[1], start)
    words = original.split()
    for cut in range(1, min(len(words), MAX_SPAN_WORDS)):
        try:
            start = parse_date(" ".join(words[:cut]), today)
            return start, parse_date(" ".join(words[cut:]), start)
        except WhenError:
            continue
    day = parse_date(original, today)
    return day, day


# --- checks -----------------------------------------------------------------------------------

def _checked(when: When, original: str, now: datetime) -> When:
    upcoming = when.recurrence().next_occurrences(now, 20)
    if not upcoming:
        if when.rrule is None:
            raise errors.in_the_past(when.start_local.strftime(SHOWN))
        raise WhenError(_("\"{text}\" never happens after now.").format(text=original[:80]))
    gaps = [later - earlier for earlier, later in zip(upcoming, upcoming[1:], strict=False)]
    if gaps and min(gaps) < MIN_INTERVAL:
        minutes = int(MIN_INTERVAL.total_seconds() // 60)
        raise WhenError(_("That repeats too often: a reminder may repeat at most every "
                          "{minutes} minutes.").format(minutes=minutes))
    return when


def _no_leftovers(rest: str, original: str) -> None:
    """Every word must have been used: the first one that was not is asked back."""
    for token in times.tokens(rest):
        if token not in FILLERS and token not in NEXT_WORDS:
            raise unreadable(original, token)


# --- pieces -----------------------------------------------------------------------------------

def _local(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None, microsecond=0)


def _prepare(original: str) -> str:
    if not original:
        raise unreadable(original)
    work = fold(original)
    work = re.sub(r"(\d{4}-\d{1,2}-\d{1,2})t(\d)", r"\1 \2", work)
    for pattern, replacement in PHRASES:
        work = re.sub(pattern, replacement, work)
    return work


# --- one-off dates ----------------------------------------------------------------------------

def _one_off(work: str, at: time | None, now_local: datetime, original: str,
             default_time: time) -> datetime:
    relative = RELATIVE_PART.search(work)
    if relative:  # "in 3 days" next to other words: "dans 3 jours à 10h"
        _no_leftovers(times.cut(work, relative), original)
        moment = times.shifted(now_local, relative.group(1), original)
        return datetime.combine(moment.date(), at) if at else moment
    day, rest, roll = _date_of(work, now_local, original, future=True)
    _no_leftovers(rest, original)
    if day is None:
        if at is None:
            raise unreadable(original)
        today = datetime.combine(now_local.date(), at)
        return today if today > now_local else today + timedelta(days=1)
    moment = datetime.combine(day, at or default_time)
    if roll and moment <= now_local:  # "Friday 14h" said on Friday at 15:00: next week
        moment += roll
    return moment


def _date_of(work: str, now_local: datetime, original: str,
             future: bool) -> tuple[date | None, str, timedelta]:
    """The date the text names, the text left over, and how far to move the date when the
    moment turns out to be past (a bare weekday means the next such day)."""
    today = now_local.date()
    found = _written_date(work, today, original, future)
    if found is not None:
        day, rest = found
        return day, _same_weekday(day, rest, original), timedelta()
    tokens = times.tokens(work)
    if MONTH_END in tokens:  # "fin du mois": the last day of this month
        last = calendar.monthrange(today.year, today.month)[1]
        return today.replace(day=last), " ".join(t for t in tokens if t != MONTH_END), timedelta()
    for token in tokens:
        if token in RELATIVE_DAYS:
            rest = " ".join(t for t in tokens if t != token)
            shift = int(RELATIVE_DAYS[token])
            return today + timedelta(days=shift), rest, timedelta()
    return _weekday(tokens, today, original)


def _written_date(work: str, today: date, original: str,
                  future: bool) -> tuple[date, str] | None:
    match = ISO_DATE.search(work)
    if match:
        year, month, day_number = (int(g) for g in match.groups())
        return _valid_date(year, month, day_number, original), times.cut(work, match)
    for pattern, day_group, month_group in ((NUMERIC_DATE, 1, 2), (DAY_MONTH, 1, 2),
                                            (MONTH_DAY, 2, 1)):
        match = pattern.search(work)
        if match:
            month_text = match.group(month_group)
            month = int(month_text) if month_text.isdecimal() else _month(month_text)
            day = _dated(match.group(3), month, int(match.group(day_group)), today, original,
                         future)
            return day, times.cut(work, match)
    return None


def _month(word: str) -> int:
    return int(MONTHS[word])


def _dated(year_text: str | None, month: int, day: int, today: date, original: str,
           future: bool) -> date:
    """A date as written; without a year, the next such date (5/3 in December is next
    March), or this year's when the past is wanted."""
    if year_text:
        year = int(year_text)
        return _valid_date(year + 2000 if year < 100 else year, month, day, original)
    if not future:
        return _valid_date(today.year, month, day, original)
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise errors.invalid_date(original)
    for year in range(today.year, today.year + 9):  # 29/2 waits for the next leap year
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    raise errors.invalid_date(original)


def _valid_date(year: int, month: int, day: int, original: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise errors.invalid_date(original) from None


def _same_weekday(day: date, rest: str, original: str) -> str:
    """"dinsdag 8 december": the weekday must be the date's, else we ask which one."""
    tokens = times.tokens(rest)
    for token in tokens:
        if token in WEEKDAYS and WEEKDAY_INDEX[str(WEEKDAYS[token])] != day.weekday():
            raise errors.wrong_weekday(day)
    return " ".join(t for t in tokens if t not in WEEKDAYS)


def _weekday(tokens: list[str], today: date,
             original: str) -> tuple[date | None, str, timedelta]:
    named = [t for t in tokens if t in WEEKDAYS]
    if not named:
        return None, " ".join(tokens), timedelta()
    if len({WEEKDAYS[t] for t in named}) > 1:
        raise unreadable(original, named[1])
    target = WEEKDAY_INDEX[str(WEEKDAYS[named[0]])]
    words = set(tokens)
    week_words = {t for t in tokens if UNITS.get(t) == "week"}
    rest = [t for t in tokens if t not in WEEKDAYS and t not in week_words]
    if week_words:  # "volgende week dinsdag", "mardi de la semaine prochaine", "this week"
        monday = today - timedelta(days=today.weekday())
        if words & NEXT_WORDS:
            monday += timedelta(days=7)
        return monday + timedelta(days=target), " ".join(rest), timedelta()
    ahead = (target - today.weekday()) % 7
    if ahead == 0 and words & NEXT_WORDS:
        ahead = 7
    return today + timedelta(days=ahead), " ".join(rest), timedelta(days=7)


def first_utc(when: When) -> datetime:
    return local_to_utc(when.start_local, ZoneInfo(when.timezone))
