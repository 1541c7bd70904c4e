"""Reading check-in answers as people write them, in any of the five languages: numbers in the
Belgian way ("1.250", "1 250", "12,5"), dates and months in words ("1er décembre", "3. Dezember",
"november 2026", "1 листопада 2026"), option labels by any unique part, several choices joined
by words ("1 et 3", "1 en 3", "1 und 3"), and the words that submit or change a review.

Pure functions, no chat: `forms.Question` calls them and turns a refusal into a translated
explanation."""
from __future__ import annotations

import re
from datetime import date
from collections.abc import Iterable, Sequence

from bot.language import fold  # case- and accent-insensitive, punctuation as spaces

# ---- numbers -----------------------------------------------------------------------------

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']+")
_GROUPED = re.compile(r"[-+]?\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*")


def read_integer(text: str) -> int | None:
    """12, +5, -3, 1.250, 1 250, 1'250, 1.234.567, 1,250 → the whole number; 12,5 → None."""
    cleaned = _SPACES.sub("", text.strip())
    if re.fullmatch(r"[-+]?\d{1,12}", cleaned):
        return int(cleaned)
    if _GROUPED.fullmatch(cleaned) and len(cleaned) <= 16:
        return int(re.sub(r"[.,]", "", cleaned))
    return None


def read_decimal(text: str) -> float | None:
    """12,5 · 12.5 · 12,5 % · 1.250 (a thousand two hundred and fifty, as in Belgium) ·
    1.250,5 · 1 250,5 · 1,250.5 → the number; anything else → None. With both marks, the last
    one is the decimal mark; a lone comma is a decimal comma; a lone point followed by three
    digits groups thousands."""
    cleaned = _SPACES.sub("", text.strip()).rstrip("%")
    if not re.fullmatch(r"[-+]?\d[\d.,]{0,20}", cleaned) or cleaned[-1] in ".,":
        return None
    marks = set(re.findall(r"[.,]", cleaned))
    if not marks:
        return float(cleaned)
    last = cleaned[max(cleaned.rfind("."), cleaned.rfind(","))]
    if len(marks) == 1 and (cleaned.count(last) > 1
                            or re.fullmatch(r"[-+]?\d{1,3}\.\d{3}", cleaned)):
        whole = read_integer(cleaned)
        return float(whole) if whole is not None else None
    head, _sep, tail = cleaned.rpartition(last)
    head_value = read_integer(head)
    if head_value is None or not tail.isdecimal() or len(tail) > 6:
        return None
    sign = -1 if head.startswith("-") else 1
    return sign * (abs(head_value) + int(tail) / 10 ** len(tail))


# ---- dates -------------------------------------------------------------------------------

MONTHS: dict[int, tuple[str, ...]] = {
    1: ("janvier", "janv", "januari", "jan", "januar", "janner", "january", "січень", "січня"),
    2: ("fevrier", "fevr", "fev", "februari", "feb", "februar", "february", "лютий", "лютого"),
    3: ("mars", "maart", "mrt", "marz", "maerz", "march", "mar", "березень", "березня"),
    4: ("avril", "avr", "april", "apr", "квітень", "квітня"),
    5: ("mai", "mei", "may", "травень", "травня"),
    6: ("juin", "juni", "june", "jun", "червень", "червня"),
    7: ("juillet", "juil", "juli", "july", "jul", "липень", "липня"),
    8: ("aout", "augustus", "aug", "august", "серпень", "серпня"),
    9: ("septembre", "sept", "september", "sep", "вересень", "вересня"),
    10: ("octobre", "oct", "oktober", "okt", "october", "жовтень", "жовтня"),
    11: ("novembre", "nov", "november", "листопад", "листопада"),
    12: ("decembre", "dec", "december", "dezember", "dez", "грудень", "грудня"),
}
_MONTH_WORDS = {word: number for number, words in MONTHS.items() for word in words}
# Words around a date that say nothing about it ("le 1er novembre", "the 1st of November").
_FILLER = {"le", "la", "du", "de", "the", "of", "on", "am", "den", "op", "in", "en", "im", "го"}
TODAY_WORDS = {"aujourd'hui", "aujourdhui", "vandaag", "heute", "today", "сьогодні"}
_NUMERIC_DATE = re.compile(r"(\d{1,4})[/.\-](\d{1,2})(?:[/.\-](\d{2,4}))?")
_DAY = re.compile(r"(\d{1,2})(?:er|re|e|ste|de|st|nd|rd|th)?")


def read_date(text: str, today: date | None = None) -> date | None:
    """A date as people write it; a month alone is its first day ("november 2026", "11/2026").
    Without a year, the occurrence nearest to `today`: a report is about the recent past or
    the near future."""
    text = text.strip()
    found = _read_numeric_date(text, today) or _month_year(text)
    if found is not None:
        return found
    words = [w for w in fold(text.replace(".", " ")).split() if w not in _FILLER]
    if len(words) == 1 and words[0] in TODAY_WORDS:
        return today or date.today()
    return _read_words_date(words, today)


def _read_numeric_date(text: str, today: date | None) -> date | None:
    match = _NUMERIC_DATE.fullmatch(text.replace(" ", ""))
    if not match:
        return None
    first, second, third = match.groups()
    if len(first) == 4:  # 2026-03-31
        return _date(int(first), int(second), int(third)) if third and len(third) <= 2 else None
    if len(first) > 2:
        return None
    if third is None:  # 1/11: day and month
        return _nearest(int(first), int(second), today)
    year = int(third) + (2000 if len(third) == 2 else 0)
    return _date(year, int(second), int(first)) if len(third) in (2, 4) else None


def _month_year(text: str) -> date | None:
    match = re.fullmatch(r"(\d{1,2})[/.\-](\d{4})", text.replace(" ", ""))
    return _date(int(match.group(2)), int(match.group(1)), 1) if match else None


def _read_words_date(words: Sequence[str], today: date | None) -> date | None:
    """[day] month [year], in any order people use: "1 november 2026", "November 1 2026",
    "3 dezember", "листопад 2026"."""
    months = [i for i, w in enumerate(words) if w in _MONTH_WORDS]
    if len(months) != 1 or len(words) > 3:
        return None
    month = _MONTH_WORDS[words[months[0]]]
    day = year = None
    for i, word in enumerate(words):
        if i == months[0]:
            continue
        day_match = _DAY.fullmatch(word)
        if re.fullmatch(r"\d{4}", word) and year is None:
            year = int(word)
        elif day_match and day is None and year is None:
            day = int(day_match.group(1))
        else:
            return None
    if year is None:
        return _nearest(day or 1, month, today)
    return _date(year, month, day or 1)


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day) if 1900 <= year <= 2200 else None
    except ValueError:
        return None


def _nearest(day: int, month: int, today: date | None) -> date | None:
    today = today or date.today()
    candidates = [d for d in (_date(today.year + shift, month, day) for shift in (-1, 0, 1)) if d]
    return min(candidates, key=lambda d: abs((d - today).days)) if candidates else None


# ---- options -----------------------------------------------------------------------------

# Words that join several choices: "1 et 3", "1 en 3", "1 und 3", "1 and 3", "1 і 3", "1 та 3".
JOINERS = {"et", "en", "und", "and", "і", "й", "та", "и", "ou", "of", "oder", "or", "plus"}
_SEPARATORS = re.compile(r"\s*(?:[,;/&+]|\s-\s)\s*")


def split_choices(text: str) -> list[str]:
    """"1 et 3" → ["1", "3"]; "interprètes et formation du personnel" → two parts; numbers
    written next to each other ("1 3") are separate choices."""
    parts: list[str] = []
    for chunk in _SEPARATORS.split(text):
        words = chunk.split()
        current: list[str] = []
        for word in words:
            if fold(word) in JOINERS:
                parts.append(" ".join(current))
                current = []
            elif word.isdecimal() and current and all(w.isdecimal() for w in current):
                parts.append(" ".join(current))
                current = [word]
            else:
                current.append(word)
        parts.append(" ".join(current))
    return [part for part in parts if part.strip()]


def match_labels(text: str, options: Sequence[tuple[str, Iterable[str]]]) -> list[str]:
    """The names of the options `text` designates, best reading first: an exact name or
    label in any language; the part of a label before ":" ("orange" for "Orange : sous
    tension"); then a unique beginning of a label or of words within it ("oost", "sous
    tension"). An empty list means no option; several mean the text is ambiguous."""
    said = fold(text)
    if not said:
        return []
    folded = [(name, {fold(name), *(fold(label) for label in labels)},
               [fold(label.split(":")[0]) for label in labels if ":" in label])
              for name, labels in options]
    tiers = (
        lambda names, labels, heads: said in labels,
        lambda names, labels, heads: said in heads,
        lambda names, labels, heads: len(said) >= 3 and any(lab.startswith(said) for lab in labels),
        lambda names, labels, heads: len(said) >= 3 and any(_words_start(said, lab)
                                                            for lab in labels),
    )
    for test in tiers:
        found = [name for name, labels, heads in folded if test(name, labels, heads)]
        if found:
            return found
    return []


def _words_start(said: str, label: str) -> bool:
    """Every word said begins a word of the label, in order: "sous tens" in "orange sous
    tension", "personeel" in "personeelstekort"."""
    words, label_words = said.split(), label.split()
    for start in range(len(label_words)):
        if all(start + i < len(label_words) and label_words[start + i].startswith(w)
               for i, w in enumerate(words)):
            return True
    return False


# ---- the review ----------------------------------------------------------------------------

SUBMIT_WORDS = {"1", "submit", "send", "yes", "y", "ok", "okay", "confirm", "envoyer", "envoie",
                "soumettre", "valider", "oui", "o", "confirmer", "verzenden", "versturen",
                "indienen", "insturen", "bevestigen", "ja", "j", "oke", "senden", "absenden",
                "einreichen", "bestatigen", "так", "надіслати", "відправити", "підтвердити",
                "gut", "d'accord", "daccord", "c'est bon", "prima", "goed"}
CHANGE_WORDS = {"2", "change", "edit", "no", "n", "modifier", "corriger", "changer", "non",
                "wijzigen", "aanpassen", "veranderen", "nee", "ändern", "andern", "korrigieren",
                "nein", "змінити", "виправити", "ні"}


def review_choice(text: str) -> str | None:
    """"submit", "change" or None for the answer to the review of a check-in."""
    said = fold(text.strip().rstrip("!.").strip())
    if said in {fold(w) for w in SUBMIT_WORDS}:
        return "submit"
    if said in {fold(w) for w in CHANGE_WORDS}:
        return "change"
    return None
