"""The parts of a WHEN text that are not a date: amounts and relative times ("dans 2
heures"), lead times ("1 day before"), "except public holidays" and the time of day ("14h",
"3pm", "midi"). Each `take_…` returns the text without what it read."""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from dateutil.relativedelta import relativedelta

from bot.i18n import _
from bot.when import errors
from bot.when.errors import WhenError
from bot.when.words import (AM_WORDS, AMOUNT, DOTTED_TIME, HOLIDAYS, ISO_DATE, LEAD_BEFORE,
                            LEAD_SHORT, LEAD_ZA, MONTHS, NOON, NUMBER_WORDS, NUMERIC_DATE,
                            PM_WORDS, RELATIVE, RELATIVE_DAYS, RELATIVE_PART, SECONDS,
                            TIME_PATTERNS, UNIT_MINUTES, UNITS, WEEKDAYS)

MAX_LEAD = timedelta(days=31)
MAX_AHEAD = timedelta(days=366 * 5)
HIDDEN = "\x00"


def number(word: str) -> int:
    return int(word) if word.isdecimal() else int(NUMBER_WORDS[word])


def relative(work: str, now: datetime, original: str) -> datetime | None:
    """ "in 30 seconds", "dans 2 heures", "over twee weken", "через 3 дні": the instant."""
    match = RELATIVE.match(work.strip(" ,"))
    return shifted(now, match.group(1), original) if match else None


def shifted(now: datetime, amounts: str, original: str) -> datetime:
    moment = now
    for amount, unit in AMOUNT.findall(amounts):
        kind = "second" if unit in SECONDS else str(UNITS[unit])
        if len(amount) > 6:
            raise too_far()
        try:
            moment += relativedelta(**{kind + "s": number(amount)})
        except (ValueError, OverflowError):
            raise too_far() from None
    if moment - now > MAX_AHEAD:
        raise too_far()
    return moment


def too_far() -> WhenError:
    return WhenError(_("That is too far ahead: at most five years."))


def amount_total(text: str) -> timedelta:
    total = timedelta()
    for amount, unit in AMOUNT.findall(text):
        kind = UNITS.get(unit)
        if kind not in ("minute", "hour", "day", "week"):
            raise WhenError(_("Use minutes, hours, days or weeks for \"{text}\".").format(
                text=text.strip()[:40]))
        if len(amount) > 6:
            raise too_far()
        total += timedelta(minutes=number(amount) * UNIT_MINUTES[str(kind)])
    return total


def take_leads(work: str) -> tuple[str, tuple[int, ...]]:
    leads: set[int] = set()
    for pattern in (LEAD_BEFORE, LEAD_ZA):
        for match in list(pattern.finditer(work)):
            for amount, unit in AMOUNT.findall(match.group(1)):  # "1 day and 1 hour": two leads
                leads.add(int(amount_total(f"{amount} {unit}").total_seconds() // 60))
        work = pattern.sub(" ", work)
    for amount, unit in LEAD_SHORT.findall(work):
        if len(amount) > 6:
            raise too_far()
        leads.add(int(amount) * {"d": 1440, "h": 60, "m": 1, "min": 1}[unit])
    work = LEAD_SHORT.sub(" ", work)
    leads.discard(0)
    if any(timedelta(minutes=m) > MAX_LEAD for m in leads):
        raise WhenError(_("A reminder can come at most 31 days before its time."))
    return work, tuple(sorted(leads, reverse=True))


def take_holidays(work: str) -> tuple[str, bool]:
    if HOLIDAYS.search(work):
        return HOLIDAYS.sub(" ", work), True
    return work, False


def take_time(work: str, original: str) -> tuple[str, time | None]:
    """The time of day, and the text without it. Parts of the day ("du soir", "'s avonds",
    "abends") move an afternoon hour; alone, they are not precise enough."""
    # "dans 2 heures": the hours of a relative time are not a time of day
    relative = RELATIVE_PART.search(work)
    if relative:
        work = work[:relative.start()] + f" {HIDDEN} " + work[relative.end():]
    work, at = clock_time(work)
    if relative:
        work = work.replace(HIDDEN, relative.group(0))
    words = work.split()
    periods = [w for w in words if w in PM_WORDS or w in AM_WORDS]
    if periods and at is None:
        raise errors.vague(errors.original_word(periods[0], original))
    if at is not None and at.hour < 12 and any(w in PM_WORDS for w in periods):
        at = at.replace(hour=at.hour + 12)
    return " ".join(w for w in words if w not in periods), at


def clock_time(work: str) -> tuple[str, time | None]:
    words = work.split()
    if set(words) & NOON:
        return " ".join(w for w in words if w not in NOON), time(12, 0)
    for index, pattern in enumerate(TIME_PATTERNS):
        match = pattern.search(work)
        if match:
            return cut(work, match), time_of(match, am_pm=index == 0)
    match = DOTTED_TIME.search(work)
    if match and (int(match.group(2)) > 12 or names_a_day(cut(work, match))):
        return cut(work, match), time_of(match)
    return work, None


def time_of(match: re.Match, am_pm: bool = False) -> time:
    groups = match.groups()
    hour = int(groups[0])
    minute = int(groups[1]) if len(groups) > 1 and groups[1] and groups[1].isdecimal() else 0
    written = re.sub(r"^\D+", "", match.group(0))  # "om 14.75": quote the time, not "om"
    if am_pm:
        if not 1 <= hour <= 12:
            raise errors.invalid_time(written)
        hour = hour % 12 + (12 if groups[2].replace(".", "") == "pm" else 0)
    if hour > 23 or minute > 59:
        raise errors.invalid_time(written)
    return time(hour, minute)


def names_a_day(rest: str) -> bool:
    """Another part of the text says which day, so "14.30" can only be a time."""
    words = set(tokens(rest))
    return bool(words & (set(WEEKDAYS) | set(MONTHS) | set(RELATIVE_DAYS))) or bool(
        NUMERIC_DATE.search(rest) or ISO_DATE.search(rest))


def tokens(work: str) -> list[str]:
    work = re.sub(r"(\d{1,2})\.(?=\s|$)", r"\1e", work)  # German ordinals: "am 5." = the 5th
    return [t for t in re.split(r"[^\w]+", work) if t]


def cut(work: str, match: re.Match) -> str:
    return work[:match.start()] + " " + work[match.end():]
