"""The words and patterns of WHEN in French, Dutch, German, English and Ukrainian.

Everything is compared after `fold` (lower case, no accents, no apostrophes), so the tables
below are written folded."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import TypeVar

V = TypeVar("V")


def fold(text: str) -> str:
    """Lower case, no accents or apostrophes, `ß` → `ss`: `Übermorgen` and `ubermorgen`,
    `après-demain` and `apres-demain`, `п'ятниця` and `пятниця` read the same."""
    text = unicodedata.normalize("NFD", text.lower().replace("ß", "ss"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"['’ʼ`]", "", text)
    return re.sub(r"\s+", " ", text).strip()


def _words(mapping: dict[V, str]) -> dict[str, V]:
    """Each word of the values (folded) → its key: {"MO": "monday lundi"} → {"monday": "MO"…}."""
    return {fold(word): value for value, words in mapping.items() for word in words.split()}


def _set(words: str) -> set[str]:
    return {fold(w) for w in words.split()}


def alternation(words: Iterable[str]) -> str:
    """A regex alternative of the words, longest first (so `dec` does not hide `decembre`)."""
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


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
                       4: "four quatre vier чотири", 5: "five cinq vijf funf пять",
                       6: "six zes sechs шість", 10: "ten dix tien zehn десять",
                       15: "fifteen quinze vijftien funfzehn", 30: "thirty trente dertig dreissig"})

UNITS = _words({
    "minute": "minute minutes min mins minuut minuten хвилина хвилину хвилини хвилин хв",
    "hour": "hour hours hr hrs heure heures uur uren stunde stunden година годину години годин",
    "day": "day days jour jours journee dag dagen tag tage tagen день дні днів дня",
    "week": "week weeks semaine semaines weken woche wochen тиждень тижні тижнів тижня",
    "month": "month months mois maand maanden monat monate monaten monats місяць місяці "
             "місяців місяця",
    "year": "year years ans annee annees jaar jaren jahr jahre jahres рік роки років року",
})
# Seconds only count in "in 30 seconds": "second"/"seconde" is also an ordinal in recurrences.
SECONDS = _set("seconds secs sec secondes seconden sekunde sekunden секунд секунди секунду")
UNIT_MINUTES = {"minute": 1, "hour": 60, "day": 1440, "week": 10080}

RECURRENCE_MARKERS = _set("every each tous toutes chaque elke elk iedere ieder alle jeden jede "
                          "jedes jeder кожен кожний кожного кожної кожну кожні щоразу")
GERMAN_EVERY = {"jeden", "jede", "jedes", "jeder"}
FREQUENCY_WORDS = _words({
    "day": "daily quotidien quotidienne quotidiennement dagelijks taglich щодня щоденно",
    "week": "weekly hebdomadaire hebdomadairement wekelijks wochentlich щотижня щотижнево",
    "month": "monthly mensuel mensuelle mensuellement maandelijks monatlich щомісяця щомісячно",
    "year": "yearly annually annuel annuellement jaarlijks jahrlich щороку",
})
WORKDAY_WORDS = _set(
    "weekday weekdays workday workdays ouvrable ouvrables ouvre ouvres werkdag werkdagen "
    "weekdag weekdagen werktag werktage werktags wochentag wochentage wochentags робочий "
    "робочі робочого будній будні буднього")
OTHER_WORDS = {"other", "andere", "ander", "autre"}
FILLERS = _set(
    "at on the of in a an and to from le la les l de du des d et au aux a op van het "
    "een en om te um am im der die das den dem und an zu o об в у на і й та з ко "
    "with starting every each s th this ce cette deze dit diese dieser diesen цього цей цю "
    "vers rond gegen tegen around avant voor vor before by until tot bis jusqu jusquau до "
    "uiterlijk spatestens latest dici") | {"\u043e"}  # the Cyrillic "о" (at)

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
    -1: "yesterday hier gisteren gestern вчора учора",
    0: "today aujourdhui vandaag heute сьогодні",
    1: "tomorrow demain morgen завтра",
    2: "overmorgen ubermorgen післязавтра",
})
PHRASES = [  # rewritten to one token before reading words
    (r"\bapres[- ]demain\b", " overmorgen "), (r"\bday after tomorrow\b", " overmorgen "),
    (r"\b[ld]?apres[- ]midi\b", " apresmidi "), (r"\bin the (afternoon|evening)\b", " pm "),
    (r"\bau plus tard\b|\bten laatste\b|\bat the latest\b|\bне пізніше\b", " "),
    (r"\ben semaine\b", " weekdays "), (r"\bsur deux\b", " other "),
    (r"\bom de andere\b", " every other "), (r"\bom de\b", " every "),
    (r"\b(every|each|elke|elk|iedere|ieder|toutes les|tous les|alle|кожні|кожну)\s+(\d+)\s*"
     r"(?:uur|uren|h|heures|heure|stunden|stunde|std)\b", r" \1 \2 hours "),
    # the last day of the month: "fin de chaque mois" repeats, "fin du mois" is a deadline
    (r"\bfin de chaque mois\b|\beinde? van elke maand\b|\bende jedes monats\b|"
     r"\bend of (?:each|every) month\b|\bв кінці кожного місяця\b", " every monthend "),
    (r"\bfin (?:du|de ce) mois\b|\beinde? (?:van )?(?:de|deze) maand\b|"
     r"\bende (?:des|dieses) monats\b|\bmonatsende\b|\bend of (?:the|this) month\b|"
     r"\b(?:в кінці|до кінця|кінця) місяця\b", " monthend "),
    (r"\bdes monats\b|\bim monat\b|\bdu mois\b|\bvan de maand\b|\bof the month\b", " month "),
    # half an hour, in every language, before numbers are read
    (r"\b(?:une |een |einer |an )?(?:demi[- ]heure|half uur|halben stunde|half an hour|"
     r"пів ?години|півгодини)\b", " 30 minutes "),
    (r"\bчерез (хвилину|годину|день|тиждень|місяць|рік)\b", r" через 1 \1 "),
    (r"\b(?:un |een |einem |a )?(?:quart dheure|kwartier|viertelstunde|quarter of an hour|"
     r"чверть години)\b", " 15 minutes "),
]
NOON = _set("noon midday midi middag mittag опівдні полудні")
NEXT_WORDS = _set("next prochain prochaine volgende komende nachsten nachste nachster kommenden "
                  "kommende наступного наступну наступний наступної")
# Parts of the day: after-noon words move "3" to 15:00; morning words change nothing.
PM_WORDS = _set("pm apresmidi soir soiree avond avonds savonds namiddag smiddags middags "
                "nachmittag "
                "nachmittags abend abends вечора ввечері вечері")
AM_WORDS = _set("matin ochtend ochtends sochtends smorgens morgens vormittag vormittags morning "
                "ранку вранці")

_UNIT_ALT = alternation(UNITS)
_NUM_ALT = alternation(NUMBER_WORDS)
_AMOUNT = rf"(?:\d+|{_NUM_ALT})\s*(?:{_UNIT_ALT})\b"
_NOT_RELATIVE = r"(?<!\bin )(?<!dans )(?<!over )(?<!binnen )(?<!через )(?<!\bna )"
LEAD_BEFORE = re.compile(
    _NOT_RELATIVE + rf"((?:{_AMOUNT}[\s,]*(?:and|et|en|und|і|та)?[\s,]*)+)"
    r"(?:before|beforehand|in advance|earlier|avant|auparavant|a lavance|vooraf|voordien|"
    r"op voorhand|voor|vorher|zuvor|davor|im voraus|раніше|заздалегідь)\b")
LEAD_ZA = re.compile(rf"\bза\s+((?:{_AMOUNT}[\s,]*(?:і|та)?[\s,]*)+)")
LEAD_SHORT = re.compile(r"(?<!\S)-(\d+)\s*(d|h|m|min)\b")
_REL_UNIT_ALT = alternation(set(UNITS) | SECONDS)
AMOUNT = re.compile(rf"(\d+|{_NUM_ALT})\s*({_REL_UNIT_ALT})\b")
HOLIDAYS = re.compile(
    r"\b(?:except|excluding|skip|skipping|not on|no|sauf|hors|sans|excepte|behalve|niet op|"
    r"uitgezonderd|zonder|ausser an|ausser|nicht an|ohne|крім|окрім|без)\s+"
    r"(?:(?:public|bank|les|jours|jour|de|an|den|op|public)\s+)*"
    r"(?:holidays|holiday|feries|ferie|feestdagen|feestdag|feiertagen|feiertage|свят\w*)\b")
_REL_AMOUNT = rf"(?:\d+|{_NUM_ALT})\s*(?:{_REL_UNIT_ALT})\b"
RELATIVE = re.compile(rf"^(?:in|dans|over|binnen|через|na)\s+((?:{_REL_AMOUNT}[\s,]*(?:and|et|"
                      rf"en|und|і|та)?[\s,]*)+)$")
# "in 3 days" next to a time: "dans 3 jours à 10h", "in 3 Tagen um 10 Uhr"
RELATIVE_PART = re.compile(rf"\b(?:in|dans|over|binnen|через|na)\s+((?:{_REL_AMOUNT}[\s,]*(?:and|"
                           rf"et|en|und|і|та)?[\s,]*)+)")

_NOT_DATE = r"(?<![\d/.:-])"
TIME_MARKERS = r"(?:at|a|om|um|о|o|vers|rond|gegen|tegen|around)"
TIME_PATTERNS = [
    re.compile(_NOT_DATE + r"(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)"),
    re.compile(_NOT_DATE + r"(\d{1,2})\s*(?::|h|u|uur|uhr)\s*(\d{2})(?!\d)"),
    re.compile(_NOT_DATE + r"(\d{1,2})\.(\d{2})\s*(?:uhr|h|u|uur)\b"),
    re.compile(_NOT_DATE + r"(\d{1,2})\s*(?:h|u|uur|uhr|heures|heure|год)\b"),
    re.compile(rf"\b{TIME_MARKERS}\s+(\d{{1,2}})\.(\d{{2}})(?![\d.])"),  # "om 14.30"
    re.compile(rf"\b{TIME_MARKERS}\s+(\d{{1,2}})\b(?![:./\d])"),
]
# "14.30" with nothing around it: a time when it cannot be a date or another date is given.
DOTTED_TIME = re.compile(_NOT_DATE + r"(\d{1,2})\.(\d{2})(?![\d.])")
ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
NUMERIC_DATE = re.compile(r"(?<![\d:])(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{4}|\d{2}))?\.?(?![\d:])")
_MONTH_ALT = alternation(MONTHS)
DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:er|e|st|nd|rd|th|\.)?\s+({_MONTH_ALT})\b\.?"
                       r"(?:\s+(\d{4}))?")
MONTH_DAY = re.compile(rf"\b({_MONTH_ALT})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}}))?")

# Every word the parser knows, for "did you mean …?".
MONTH_END = "monthend"
KNOWN_WORDS = sorted(set(WEEKDAYS) | set(MONTHS) | set(RELATIVE_DAYS) | set(UNITS) | SECONDS
                     | RECURRENCE_MARKERS | set(FREQUENCY_WORDS) | WORKDAY_WORDS | NOON
                     | NEXT_WORDS | PM_WORDS | AM_WORDS | set(ORDINAL_WORDS)
                     | {"apres-demain", "apres-midi"})
