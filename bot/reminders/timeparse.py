"""`parse_when`: the WHEN of `/remind WHEN; TEXT` in French, Dutch, German, English (and the
common Ukrainian words), to a first local time plus an optional RFC 5545 RRULE.

Our own layer handles what general-purpose parsers get wrong for Belgian users: recurrences
("tous les 2e mardis du mois à 10h", "elke eerste maandag om 9u30", "jeden Freitag 14 Uhr"),
day-first numeric dates ("5/3 14:00" is 5 March), times written `10h`, `9u30`, `14 Uhr`, lead
times ("1 day before") and "except public holidays". `dateparser` is the fallback for one-off
dates our patterns do not know ("next Friday", "5 mars"); `dateutil.rrule` computes
occurrences. Errors are raised as `WhenError` with a message in the current language."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.i18n import _
from bot.reminders.recurrence import Recurrence, format_local, local_to_utc

MIN_INTERVAL = timedelta(minutes=5)
DEFAULT_TIME = time(9, 0)
MAX_LEAD = timedelta(days=31)


class WhenError(ValueError):
    """The WHEN text cannot be used; `str(error)` is the translated explanation."""


@dataclass(frozen=True)
class When:
    start_local: datetime
    timezone: str
    rrule: str | None = None
    leads_minutes: tuple[int, ...] = ()
    skip_holidays: bool = False
    exdates: tuple[str, ...] = field(default_factory=tuple)

    @property
    def recurring(self) -> bool:
        return self.rrule is not None

    def recurrence(self) -> Recurrence:
        from bot.reminders.recurrence import parse_local
        return Recurrence(self.start_local, self.timezone, self.rrule,
                          frozenset(parse_local(x) for x in self.exdates), self.skip_holidays)

    def as_dict(self) -> dict:
        return {"start_local": format_local(self.start_local), "timezone": self.timezone,
                "rrule": self.rrule, "leads_minutes": list(self.leads_minutes),
                "skip_holidays": self.skip_holidays}

    @classmethod
    def from_dict(cls, data: dict) -> "When":
        from bot.reminders.recurrence import parse_local
        return cls(parse_local(data["start_local"]), data["timezone"], data.get("rrule"),
                   tuple(data.get("leads_minutes") or ()), bool(data.get("skip_holidays")))


# --- vocabulary -------------------------------------------------------------------------------

def fold(text: str) -> str:
    """Lower case, no accents or apostrophes, `ß` → `ss`: `Übermorgen` and `ubermorgen`,
    `après-demain` and `apres-demain`, `п'ятниця` and `пятниця` read the same."""
    text = unicodedata.normalize("NFD", text.lower().replace("ß", "ss"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"['’ʼ`]", "", text)
    return re.sub(r"\s+", " ", text).strip()


def _words(mapping: dict) -> dict[str, object]:
    return {fold(word): value for value, words in mapping.items() for word in words.split()}


WEEKDAYS = _words({
    "MO": "monday mondays mon lundi lundis maandag maandagen ma montag montags "
          "понеділок понеділка понеділки понеділках",
    "TU": "tuesday tuesdays tue tues mardi mardis dinsdag dinsdagen di dienstag dienstags "
          "вівторок вівторка вівторки вівторках",
    "WE": "wednesday wednesdays wed mercredi mercredis woensdag woensdagen wo mittwoch mittwochs "
          "середа середу середи середах",
    "TH": "thursday thursdays thu thurs jeudi jeudis donderdag donderdagen do donnerstag "
          "donnerstags четвер четверга четверги четвергах",
    "FR": "friday fridays fri vendredi vendredis vrijdag vrijdagen vr freitag freitags "
          "пятниця пятницю пятниці пятницях",
    "SA": "saturday saturdays sat samedi samedis zaterdag zaterdagen za samstag samstags "
          "субота суботу суботи суботах",
    "SU": "sunday sundays sun dimanche dimanches zondag zondagen zo sonntag sonntags "
          "неділя неділю неділі неділях",
})
WEEKDAY_INDEX = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}

ORDINAL_WORDS = _words({
    1: "first premier premiere eerste erste ersten erster перший першого першу першої",
    2: "second seconde deuxieme tweede zweite zweiten zweiter другий другого другу другої",
    3: "third troisieme derde dritte dritten dritter третій третього третю третьої",
    4: "fourth quatrieme vierde vierte vierten vierter четвертий четвертого четверту четвертої",
    -1: "last dernier derniere laatste letzte letzten letzter останній останнього останню "
        "останньої",
})
ORDINAL_SUFFIX = re.compile(r"^(\d{1,2})(st|nd|rd|th|er|re|ere|e|eme|ieme|de|ste|ste|te|ten|"
                            r"ter|ого|ий|е|го)$")

NUMBER_WORDS = _words({1: "one a an un une een ein eine einen einer один одна одну",
                       2: "two deux twee zwei два дві", 3: "three trois drie drei три",
                       4: "four quatre vier чотири", 6: "six zes sechs шість"})

UNITS = _words({
    "minute": "minute minutes min mins minuut minuten хвилина хвилину хвилини хвилин хв",
    "hour": "hour hours hr hrs heure heures uur uren stunde stunden година годину години годин",
    "day": "day days jour jours journee dag dagen tag tage tagen день дні днів дня",
    "week": "week weeks semaine semaines weken woche wochen тиждень тижні тижнів тижня",
    "month": "month months mois maand maanden monat monate monaten monats місяць місяці "
             "місяців місяця",
    "year": "year years ans annee annees jaar jaren jahr jahre jahres рік роки років року",
})
UNIT_MINUTES = {"minute": 1, "hour": 60, "day": 1440, "week": 10080}

RECURRENCE_MARKERS = {fold(w) for w in (
    "every each tous toutes chaque elke elk iedere ieder alle jeden jede jedes jeder "
    "кожен кожний кожного кожної кожну кожні щоразу").split()}
FREQUENCY_WORDS = _words({
    "day": "daily quotidien quotidienne quotidiennement dagelijks taglich щодня щоденно",
    "week": "weekly hebdomadaire hebdomadairement wekelijks wochentlich щотижня щотижнево",
    "month": "monthly mensuel mensuelle mensuellement maandelijks monatlich щомісяця щомісячно",
    "year": "yearly annually annuel annuellement jaarlijks jahrlich щороку",
})
WORKDAY_WORDS = {fold(w) for w in (
    "weekday weekdays workday workdays ouvrable ouvrables ouvre ouvres werkdag werkdagen "
    "weekdag weekdagen werktag werktage werktags wochentag wochentage wochentags робочий "
    "робочі робочого будній будні буднього").split()}
OTHER_WORDS = {"other", "andere", "ander", "autre"}
FILLERS = {fold(w) for w in (
    "at on the of in a an and to from le la les l de du des d et au aux a op van het "
    "een en om te um am im der die das den dem und an zu o об в у на і й та з ко "
    "with starting every each s th \u043e").split()}  # the last one is the Cyrillic "о" (at)

MONTHS = _words({
    1: "january jan janvier janv januari janner januar січня січень",
    2: "february feb fevrier fevr februari februar лютого лютий",
    3: "march mar mars maart marz березня березень",
    4: "april apr avril avr квітня квітень",
    5: "may mai mei травня травень",
    6: "june jun juin juni червня червень",
    7: "july jul juillet juil juli липня липень",
    8: "august aug aout augustus серпня серпень",
    9: "september sep sept septembre вересня вересень",
    10: "october oct octobre oktober okt жовтня жовтень",
    11: "november nov novembre листопада листопад",
    12: "december dec decembre dezember dez грудня грудень",
})

RELATIVE_DAYS = _words({
    0: "today aujourdhui vandaag heute сьогодні",
    1: "tomorrow demain morgen завтра",
    2: "overmorgen ubermorgen післязавтра",
})
PHRASES = [  # rewritten to one token before reading words
    (r"\bapres[- ]demain\b", " overmorgen "), (r"\bday after tomorrow\b", " overmorgen "),
    (r"\ben semaine\b", " weekdays "), (r"\bsur deux\b", " other "),
    (r"\bom de andere\b", " every other "), (r"\bom de\b", " every "),
    (r"\b(every|each|elke|elk|iedere|ieder|toutes les|tous les|alle|кожні|кожну)\s+(\d+)\s*"
     r"(?:uur|uren|h|heures|heure|stunden|stunde|std)\b", r" \1 \2 hours "),
    (r"\bdes monats\b|\bim monat\b|\bdu mois\b|\bvan de maand\b|\bof the month\b", " month "),
]
NOON = {fold(w) for w in "noon midday midi middag mittag опівдні".split()}
NEXT_WORDS = {fold(w) for w in "next prochain prochaine volgende komende nachsten nachste "
                                "nachster kommenden наступного наступну наступний".split()}

_UNIT_ALT = "|".join(sorted((re.escape(w) for w in UNITS), key=len, reverse=True))
_NUM_ALT = "|".join(sorted((re.escape(w) for w in NUMBER_WORDS), key=len, reverse=True))
_AMOUNT = rf"(?:\d+|{_NUM_ALT})\s*(?:{_UNIT_ALT})\b"
_NOT_RELATIVE = r"(?<!\bin )(?<!dans )(?<!over )(?<!binnen )(?<!через )(?<!\bna )"
LEAD_BEFORE = re.compile(
    _NOT_RELATIVE + rf"((?:{_AMOUNT}[\s,]*(?:and|et|en|und|і|та)?[\s,]*)+)"
    r"(?:before|beforehand|in advance|earlier|avant|auparavant|a lavance|vooraf|voordien|"
    r"op voorhand|voor|vorher|zuvor|davor|im voraus|раніше|заздалегідь)\b")
LEAD_ZA = re.compile(rf"\bза\s+((?:{_AMOUNT}[\s,]*(?:і|та)?[\s,]*)+)")
LEAD_SHORT = re.compile(r"(?<!\S)-(\d+)\s*(d|h|m|min)\b")
AMOUNT = re.compile(rf"(\d+|{_NUM_ALT})\s*({_UNIT_ALT})\b")
HOLIDAYS = re.compile(
    r"\b(?:except|excluding|skip|skipping|not on|no|sauf|hors|sans|excepte|behalve|niet op|"
    r"uitgezonderd|zonder|ausser an|ausser|nicht an|ohne|крім|окрім|без)\s+"
    r"(?:(?:public|bank|les|jours|jour|de|an|den|op|public)\s+)*"
    r"(?:holidays|holiday|feries|ferie|feestdagen|feestdag|feiertagen|feiertage|свят\w*)\b")
RELATIVE = re.compile(rf"^(?:in|dans|over|binnen|через|na)\s+((?:{_AMOUNT}[\s,]*(?:and|et|en|und|"
                      rf"і|та)?[\s,]*)+)$")

_NOT_DATE = r"(?<![\d/.:-])"
TIME_PATTERNS = [
    re.compile(_NOT_DATE + r"(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)"),
    re.compile(_NOT_DATE + r"(\d{1,2})\s*(?::|h|u|uur|uhr)\s*(\d{2})(?!\d)"),
    re.compile(_NOT_DATE + r"(\d{1,2})\.(\d{2})\s*(?:uhr|h|u|uur)\b"),
    re.compile(_NOT_DATE + r"(\d{1,2})\s*(?:h|u|uur|uhr|heures|heure|год)\b"),
    re.compile(r"\b(?:at|a|om|um|о|o|vers|rond|gegen)\s+(\d{1,2})\b(?![:./\d])"),
]
ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
NUMERIC_DATE = re.compile(r"(?<![\d:])(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{4}|\d{2}))?\.?(?![\d:])")
_MONTH_ALT = "|".join(sorted((re.escape(w) for w in MONTHS), key=len, reverse=True))
DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:er|e|st|nd|rd|th|\.)?\s+({_MONTH_ALT})\b\.?"
                       r"(?:\s+(\d{4}))?")
MONTH_DAY = re.compile(rf"\b({_MONTH_ALT})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}}))?")


# --- entry point ------------------------------------------------------------------------------

def parse_when(text: str, locale: str, tz: str, now: datetime) -> When:
    """Reads WHEN for a person in `locale` living in time zone `tz`, at instant `now`."""
    zone = ZoneInfo(tz)
    original = text.strip()
    if not original:
        raise WhenError(_unparseable(original))
    work = fold(original)
    work = re.sub(r"(\d{4}-\d{1,2}-\d{1,2})t(\d)", r"\1 \2", work)
    for pattern, replacement in PHRASES:
        work = re.sub(pattern, replacement, work)
    work, leads = _take_leads(work)
    work, skip_holidays = _take_holidays(work)
    now_local = now.astimezone(zone).replace(tzinfo=None)

    relative = RELATIVE.match(work.strip(" ,"))
    if relative:
        delta = _amount_total(relative.group(1))
        start = (now + delta).astimezone(zone).replace(tzinfo=None, microsecond=0)
        return _checked(When(start, tz, None, leads, skip_holidays), original, now)

    work, at = _take_time(work, original)
    tokens = _tokens(work)
    if _is_recurring(tokens):
        when = _recurrence(tokens, at, now_local, tz, leads, skip_holidays, original)
    else:
        when = When(_one_off(work, tokens, at, now_local, locale, original), tz, None, leads,
                    skip_holidays)
    return _checked(when, original, now)


def _checked(when: When, original: str, now: datetime) -> When:
    recurrence = when.recurrence()
    upcoming = recurrence.next_occurrences(now, 20)
    if not upcoming:
        if when.rrule is None:
            raise WhenError(_("{time} is in the past. Please give a time in the future.").format(
                time=when.start_local.strftime("%d/%m/%Y %H:%M")))
        raise WhenError(_("\"{text}\" never happens after now.").format(text=original[:80]))
    gaps = [later - earlier for earlier, later in zip(upcoming, upcoming[1:])]
    if gaps and min(gaps) < MIN_INTERVAL:
        raise WhenError(_("That repeats too often: a reminder may repeat at most every "
                          "{minutes} minutes.").format(minutes=int(MIN_INTERVAL.total_seconds() // 60)))
    return when


def _unparseable(original: str) -> str:
    return _("I could not read the time \"{text}\". Examples: \"in 2 minutes\", \"tomorrow at "
             "9:00\", \"5/3 14:00\" (day/month), \"every Monday at 10:00\", \"every first "
             "Tuesday of the month at 10h\".").format(text=original[:80])


# --- pieces -----------------------------------------------------------------------------------

def _number(word: str) -> int:
    return int(word) if word.isdecimal() else int(NUMBER_WORDS[word])  # type: ignore[arg-type]


def _amount_total(text: str) -> timedelta:
    total = timedelta()
    for amount, unit in AMOUNT.findall(text):
        kind = UNITS[unit]
        if kind not in UNIT_MINUTES:
            raise WhenError(_("Use minutes, hours, days or weeks for \"{text}\".").format(
                text=text.strip()[:40]))
        total += timedelta(minutes=_number(amount) * UNIT_MINUTES[kind])  # type: ignore[index]
    return total


def _take_leads(work: str) -> tuple[str, tuple[int, ...]]:
    leads: set[int] = set()
    for pattern in (LEAD_BEFORE, LEAD_ZA):
        for match in list(pattern.finditer(work)):
            for amount, unit in AMOUNT.findall(match.group(1)):
                leads.add(int(_amount_total(f"{amount} {unit}").total_seconds() // 60))
        work = pattern.sub(" ", work)
    for amount, unit in LEAD_SHORT.findall(work):
        leads.add(int(amount) * {"d": 1440, "h": 60, "m": 1, "min": 1}[unit])
    work = LEAD_SHORT.sub(" ", work)
    leads.discard(0)
    if any(timedelta(minutes=m) > MAX_LEAD for m in leads):
        raise WhenError(_("A reminder can come at most 31 days before its time."))
    return work, tuple(sorted(leads, reverse=True))


def _take_holidays(work: str) -> tuple[str, bool]:
    if HOLIDAYS.search(work):
        return HOLIDAYS.sub(" ", work), True
    return work, False


def _take_time(work: str, original: str) -> tuple[str, time | None]:
    words = set(work.split())
    if words & NOON:
        return " ".join(w for w in work.split() if w not in NOON), time(12, 0)
    for index, pattern in enumerate(TIME_PATTERNS):
        match = pattern.search(work)
        if not match:
            continue
        groups = match.groups()
        hour = int(groups[0])
        minute = int(groups[1]) if len(groups) > 1 and groups[1] and groups[1].isdecimal() else 0
        if index == 0:
            suffix = groups[2].replace(".", "")
            if not 1 <= hour <= 12:
                raise WhenError(_("{value} is not a valid time of day.").format(
                    value=match.group(0).strip()))
            hour = hour % 12 + (12 if suffix == "pm" else 0)
        if hour > 23 or minute > 59:
            raise WhenError(_("{value} is not a valid time of day.").format(
                value=match.group(0).strip()))
        rest = work[:match.start()] + " " + work[match.end():]
        return rest, time(hour, minute)
    return work, None


def _tokens(work: str) -> list[str]:
    work = re.sub(r"(\d{1,2})\.(?=\s|$)", r"\1e", work)  # German ordinals: "am 5." = the 5th
    return [t for t in re.split(r"[^\w]+", work) if t]


def _is_recurring(tokens: list[str]) -> bool:
    words = set(tokens)
    if words & (RECURRENCE_MARKERS | set(FREQUENCY_WORDS) | WORKDAY_WORDS | OTHER_WORDS):
        return True
    # "last Friday of the month" needs no "every"
    return any(UNITS.get(w) == "month" for w in words) and bool(words & set(WEEKDAYS))


def _ordinal(token: str) -> int | None:
    if token in ORDINAL_WORDS:
        return int(ORDINAL_WORDS[token])  # type: ignore[arg-type]
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
            reading.intervals[str(UNITS[following])] = _number(token)
            skip_next = True
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
        elif _ordinal(token) is not None:
            reading.ordinals.append(_ordinal(token))  # type: ignore[arg-type]
        elif token.isdecimal():
            reading.numbers.append(int(token))
        elif token in NUMBER_WORDS:  # "un mardi sur deux": an article, not a count
            if NUMBER_WORDS[token] != 1:
                reading.numbers.append(int(NUMBER_WORDS[token]))  # type: ignore[arg-type]
        elif token in RECURRENCE_MARKERS:
            reading.german_every |= token in {"jeden", "jede", "jedes", "jeder"}
        elif token in FILLERS:
            continue
        else:
            raise WhenError(_unparseable(original))
    return reading


def _rule(reading: _Reading, original: str) -> str:
    month_scope = "month" in reading.units or "month" in reading.intervals
    if "minute" in reading.intervals or "minute" in reading.units:
        return f"FREQ=MINUTELY;INTERVAL={reading.intervals.get('minute', 1)}"
    if "hour" in reading.intervals or "hour" in reading.units:
        return f"FREQ=HOURLY;INTERVAL={reading.intervals.get('hour', 1)}"
    week_interval = reading.intervals.get("week", 2 if reading.other else 1)
    if reading.workdays:
        return f"FREQ=WEEKLY;INTERVAL={week_interval};BYDAY=MO,TU,WE,TH,FR"
    if reading.weekdays and reading.ordinals:
        if reading.german_every and reading.ordinals == [2] and not month_scope:
            return f"FREQ=WEEKLY;INTERVAL=2;BYDAY={','.join(reading.weekdays)}"  # jeden zweiten
        days = [f"{'+' if n > 0 else ''}{n}{day}" for n in reading.ordinals
                for day in reading.weekdays]
        if any(abs(n) > 5 for n in reading.ordinals):
            raise WhenError(_unparseable(original))
        return f"FREQ=MONTHLY;INTERVAL={reading.intervals.get('month', 1)};BYDAY={','.join(days)}"
    if reading.weekdays:
        return f"FREQ=WEEKLY;INTERVAL={week_interval};BYDAY={','.join(reading.weekdays)}"
    if month_scope or reading.ordinals:
        days = reading.ordinals + reading.numbers
        if "day" in reading.units and days == [-1]:
            days = [-1]
        if any(not (1 <= d <= 31 or d == -1) for d in days):
            raise WhenError(_unparseable(original))
        by_day = f";BYMONTHDAY={','.join(str(d) for d in days)}" if days else ""
        return f"FREQ=MONTHLY;INTERVAL={reading.intervals.get('month', 1)}{by_day}"
    if "day" in reading.intervals or "day" in reading.units:
        return f"FREQ=DAILY;INTERVAL={reading.intervals.get('day', 1)}"
    if "week" in reading.intervals or "week" in reading.units:
        return f"FREQ=WEEKLY;INTERVAL={week_interval}"
    if "year" in reading.intervals or "year" in reading.units:
        return f"FREQ=YEARLY;INTERVAL={reading.intervals.get('year', 1)}"
    raise WhenError(_unparseable(original))


def _recurrence(tokens: list[str], at: time | None, now_local: datetime, tz: str,
                leads: tuple[int, ...], skip_holidays: bool, original: str) -> When:
    reading = _read(tokens, original)
    rule = _rule(reading, original)
    if rule.startswith(("FREQ=MINUTELY", "FREQ=HOURLY")):
        start = now_local.replace(second=0, microsecond=0) + timedelta(minutes=1)
        if at is not None:
            start = start.replace(minute=at.minute)
    else:
        start = datetime.combine(now_local.date(), at or DEFAULT_TIME)
    return When(start, tz, rule, leads, skip_holidays)


def _one_off(work: str, tokens: list[str], at: time | None, now_local: datetime, locale: str,
             original: str) -> datetime:
    day, rest, roll = _own_date(work, now_local, original)
    if day is None:
        words = [t for t in _tokens(rest) if t not in FILLERS]
        if not words:
            if at is None:
                raise WhenError(_unparseable(original))
            today = datetime.combine(now_local.date(), at)
            return today if today > now_local else today + timedelta(days=1)
        day = _fallback_date(rest, now_local, locale, original)
    else:
        leftovers = [t for t in _tokens(rest) if t not in FILLERS and t not in NEXT_WORDS]
        if leftovers:
            raise WhenError(_unparseable(original))
    moment = datetime.combine(day, at or DEFAULT_TIME)
    if roll and moment <= now_local:  # "Friday 14h" said on Friday at 15:00: next week
        moment += roll
    return moment


def _valid_date(year: int, month: int, day: int, original: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise WhenError(_("{value} is not a valid date.").format(value=original[:40])) from None


def _own_date(work: str, now_local: datetime,
              original: str) -> tuple[date | None, str, timedelta]:
    """Dates we read ourselves, day first: the date, the text left over, and how far to move
    it when it turns out to be past (a bare weekday means the next such day)."""
    none = timedelta()
    today = now_local.date()
    match = ISO_DATE.search(work)
    if match:
        year, month, day = (int(g) for g in match.groups())
        return _valid_date(year, month, day, original), _cut(work, match), none
    match = NUMERIC_DATE.search(work)
    if match:
        day, month = int(match.group(1)), int(match.group(2))
        year = _year(match.group(3), today)
        return _valid_date(year, month, day, original), _cut(work, match), none
    match = DAY_MONTH.search(work)
    if match:
        return _valid_date(_year(match.group(3), today), int(MONTHS[match.group(2)]),  # type: ignore[arg-type]
                           int(match.group(1)), original), _cut(work, match), none
    match = MONTH_DAY.search(work)
    if match:
        return _valid_date(_year(match.group(3), today), int(MONTHS[match.group(1)]),  # type: ignore[arg-type]
                           int(match.group(2)), original), _cut(work, match), none
    tokens = _tokens(work)
    for token in tokens:
        if token in RELATIVE_DAYS:
            rest = " ".join(t for t in tokens if t != token)
            return today + timedelta(days=int(RELATIVE_DAYS[token])), rest, none  # type: ignore[arg-type]
    for token in tokens:
        if token in WEEKDAYS:
            ahead = (WEEKDAY_INDEX[str(WEEKDAYS[token])] - today.weekday()) % 7
            if ahead == 0 and set(tokens) & NEXT_WORDS:
                ahead = 7
            rest = " ".join(t for t in tokens if t != token)
            return today + timedelta(days=ahead), rest, timedelta(days=7)
    return None, work, none


def _year(text: str | None, today: date) -> int:
    if not text:
        return today.year
    year = int(text)
    return year + 2000 if year < 100 else year


def _cut(work: str, match: re.Match) -> str:
    return work[:match.start()] + " " + work[match.end():]


def _fallback_date(rest: str, now_local: datetime, locale: str, original: str) -> date:
    import dateparser

    languages = list(dict.fromkeys([locale, "fr", "nl", "de", "en", "uk"]))
    settings = {"PREFER_DATES_FROM": "future", "DATE_ORDER": "DMY", "RELATIVE_BASE": now_local,
                "RETURN_AS_TIMEZONE_AWARE": False}
    found = dateparser.parse(rest, languages=languages, settings=settings)
    if found is None:
        raise WhenError(_unparseable(original))
    return found.date()


def first_utc(when: When) -> datetime:
    return local_to_utc(when.start_local, ZoneInfo(when.timezone))
