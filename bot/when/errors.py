"""`WhenError` and its messages: every refusal names what could not be used, in the reader's
language, so the person can correct that word instead of guessing."""
from __future__ import annotations

import difflib
import re
from datetime import date

from babel.dates import format_date

from bot.i18n import _, current_locale
from bot.when.words import KNOWN_WORDS, fold

BABEL_LOCALES = {"en": "en_GB", "fr": "fr_BE", "nl": "nl_BE", "de": "de_BE", "uk": "uk_UA"}
QUOTED = 80


class WhenError(ValueError):
    """The time text cannot be used; `str(error)` is the translated explanation."""


def examples() -> str:
    return _("For example: \"tomorrow at 9:00\", \"Friday 14h\", \"8 December at 17:00\", "
             "\"5/3 14:00\" (day/month), \"in 30 minutes\", \"every Monday at 10:00\".")


def unreadable(original: str, token: str | None = None) -> WhenError:
    """The whole text, or one word of it, could not be read: quote it, suggest the closest
    word the parser knows, and show examples."""
    word = original_word(token, original) if token else None
    if not word or fold(word) == fold(original):
        message = _("I could not read the time \"{text}\".").format(text=original[:QUOTED])
    else:
        message = _("I could not read \"{word}\" in \"{text}\".").format(
            word=word[:40], text=original[:QUOTED])
    close = difflib.get_close_matches(token or "", KNOWN_WORDS, n=1, cutoff=0.75) if token else []
    if close and close[0] != token:
        message += " " + _("Did you mean \"{word}\"?").format(word=close[0])
    return WhenError(message + " " + examples())


def original_word(token: str, original: str) -> str:
    """The word as the person wrote it (accents and case kept) for a folded token."""
    for word in re.findall(r"[\w'’ʼ`-]+", original):
        for part in [word, *re.split(r"[-]", word)]:
            if fold(part) == token:
                return part
    return token


def _babel() -> str:
    return BABEL_LOCALES.get(current_locale(), "en_GB")


def wrong_weekday(day: date) -> WhenError:
    """"lundi 8 décembre" when the 8th is a Tuesday: a typo in one of the two."""
    return WhenError(_("{date} is a {weekday}: which of the two did you mean?").format(
        date=format_date(day, "long", locale=_babel()),
        weekday=format_date(day, "EEEE", locale=_babel())))


def in_the_past(shown: str) -> WhenError:
    return WhenError(_("{time} is in the past. Please give a time in the future.").format(
        time=shown))


def invalid_date(text: str) -> WhenError:
    return WhenError(_("{value} is not a valid date.").format(value=text[:40]))


def invalid_time(text: str) -> WhenError:
    return WhenError(_("{value} is not a valid time of day.").format(value=text.strip()[:40]))


def vague(word: str) -> WhenError:
    return WhenError(_("\"{word}\" is not precise enough: add an hour, such as 9h or 14:30.")
                     .format(word=word[:40]))
