"""Recurrences in words to an RFC 5545 RRULE: "tous les 2e mardis du mois à 10h", "elke eerste
maandag om 9u30", "jeden zweiten Dienstag", "every weekday", "кожного понеділка"."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from bot.when.errors import unreadable
from bot.when.times import number
from bot.when.words import (FILLERS, FREQUENCY_WORDS, GERMAN_EVERY, MONTH_END, NUMBER_WORDS,
                            ORDINAL_SUFFIX, ORDINAL_WORDS, OTHER_WORDS, RECURRENCE_MARKERS, UNITS,
                            WEEKDAYS, WORKDAY_WORDS)

DEFAULT_TIME = time(9, 0)


def is_recurring(tokens: list[str]) -> bool:
    words = set(tokens)
    if words & (RECURRENCE_MARKERS | set(FREQUENCY_WORDS) | WORKDAY_WORDS | OTHER_WORDS):
        return True
    # "last Friday of the month" needs no "every"
    return any(UNITS.get(w) == "month" for w in words) and bool(words & set(WEEKDAYS))


def rule_of(tokens: list[str], original: str) -> str:
    return _rule(_read(tokens, original), original)


def recurrence_start(rule: str, at: time | None, now_local: datetime) -> datetime:
    """The first local time the rule is anchored to (occurrences are those after now)."""
    if rule.startswith(("FREQ=MINUTELY", "FREQ=HOURLY")):
        start = now_local.replace(second=0, microsecond=0) + timedelta(minutes=1)
        return start.replace(minute=at.minute) if at is not None else start
    return datetime.combine(now_local.date(), at or DEFAULT_TIME)


def _ordinal(token: str) -> int | None:
    if token in ORDINAL_WORDS:
        return int(ORDINAL_WORDS[token])
    match = ORDINAL_SUFFIX.match(token)
    return int(match.group(1)) if match else None


@dataclass
class _Reading:
    weekdays: list[str] = field(default_factory=list)
    ordinals: list[int] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    intervals: dict[str, int] = field(default_factory=dict)
    units: set[str] = field(default_factory=set)
    workdays: bool = False
    other: bool = False
    german_every: bool = False


def _read(tokens: list[str], original: str) -> _Reading:
    reading = _Reading()
    skip_next = False
    for index, token in enumerate(tokens):
        if skip_next:
            skip_next = False
            continue
        following = tokens[index + 1] if index + 1 < len(tokens) else ""
        if (token.isdecimal() or token in NUMBER_WORDS) and following in UNITS:
            if len(token) > 6:
                raise unreadable(original, token)
            reading.intervals[str(UNITS[following])] = number(token)
            skip_next = True
        elif not _read_word(reading, token):
            raise unreadable(original, token)
    return reading


def _read_word(reading: _Reading, token: str) -> bool:
    """Records what one word says; False when the word means nothing here."""
    if token == MONTH_END:
        reading.ordinals.append(-1)
        reading.units.add("month")
    elif token in WEEKDAYS:
        reading.weekdays.append(str(WEEKDAYS[token]))
    elif token in WORKDAY_WORDS:
        reading.workdays = True
    elif token in OTHER_WORDS:
        reading.other = True
    elif token in FREQUENCY_WORDS:
        reading.units.add(str(FREQUENCY_WORDS[token]))
    elif token in UNITS:
        reading.units.add(str(UNITS[token]))
    elif (ordinal := _ordinal(token)) is not None:
        reading.ordinals.append(ordinal)
    elif token.isdecimal():
        if len(token) > 6:
            return False
        reading.numbers.append(int(token))
    elif token in NUMBER_WORDS:  # "un mardi sur deux": an article, not a count
        if NUMBER_WORDS[token] != 1:
            reading.numbers.append(int(NUMBER_WORDS[token]))
    elif token in RECURRENCE_MARKERS:
        reading.german_every |= token in GERMAN_EVERY
    elif token not in FILLERS:
        return False
    return True


def _rule(reading: _Reading, original: str) -> str:
    """The RRULE of what was read: the first of these readings that applies, in order."""
    for build in (_frequent_rule, _weekday_rule, _month_day_rule, _unit_rule):
        rule = build(reading, original)
        if rule is not None:
            return rule
    raise unreadable(original)


def _has(reading: _Reading, unit: str) -> bool:
    return unit in reading.intervals or unit in reading.units


def _week_interval(reading: _Reading) -> int:
    return reading.intervals.get("week", 2 if reading.other else 1)


def _frequent_rule(reading: _Reading, original: str) -> str | None:
    for unit, frequency in (("minute", "MINUTELY"), ("hour", "HOURLY")):
        if _has(reading, unit):
            return f"FREQ={frequency};INTERVAL={reading.intervals.get(unit, 1)}"
    return None


def _weekday_rule(reading: _Reading, original: str) -> str | None:
    """Working days, weekdays, or "the 2nd Tuesday of the month" (weekdays with ordinals)."""
    if reading.workdays:
        return f"FREQ=WEEKLY;INTERVAL={_week_interval(reading)};BYDAY=MO,TU,WE,TH,FR"
    if not reading.weekdays:
        return None
    weekdays = ",".join(reading.weekdays)
    if not reading.ordinals:
        return f"FREQ=WEEKLY;INTERVAL={_week_interval(reading)};BYDAY={weekdays}"
    if reading.german_every and reading.ordinals == [2] and not _has(reading, "month"):
        return f"FREQ=WEEKLY;INTERVAL=2;BYDAY={weekdays}"  # jeden zweiten
    if any(abs(n) > 5 for n in reading.ordinals):
        raise unreadable(original)
    days = [f"{'+' if n > 0 else ''}{n}{day}" for n in reading.ordinals
            for day in reading.weekdays]
    return f"FREQ=MONTHLY;INTERVAL={reading.intervals.get('month', 1)};BYDAY={','.join(days)}"


def _month_day_rule(reading: _Reading, original: str) -> str | None:
    if not (_has(reading, "month") or reading.ordinals):
        return None
    month_days = reading.ordinals + reading.numbers
    if any(not (1 <= d <= 31 or d == -1) for d in month_days):
        raise unreadable(original)
    by_day = f";BYMONTHDAY={','.join(str(d) for d in month_days)}" if month_days else ""
    return f"FREQ=MONTHLY;INTERVAL={reading.intervals.get('month', 1)}{by_day}"


def _unit_rule(reading: _Reading, original: str) -> str | None:
    for unit, frequency in (("day", "DAILY"), ("week", "WEEKLY"), ("year", "YEARLY")):
        if _has(reading, unit):
            interval = _week_interval(reading) if unit == "week" else reading.intervals.get(
                unit, 1)
            return f"FREQ={frequency};INTERVAL={interval}"
    return None
