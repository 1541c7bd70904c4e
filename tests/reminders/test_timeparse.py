"""WHEN in the four languages people write to the bot in Belgium (and Ukrainian)."""
from datetime import datetime, UTC
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import Catalogues
from bot.config import PROJECT_ROOT
from bot.when import WhenError, parse_when

BRUSSELS = ZoneInfo("Europe/Brussels")
# Monday 2 March 2026, 10:00 in Brussels.
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def next_three(text: str, locale: str = "en") -> tuple[str | None, list[str]]:
    when = parse_when(text, locale, "Europe/Brussels", NOW)
    times = when.recurrence().next_occurrences(NOW, 3)
    return when.rrule, [t.astimezone(BRUSSELS).strftime("%a %d/%m %H:%M") for t in times]


@pytest.mark.parametrize("text, locale, rule, first", [
    ("tous les 2e mardis du mois à 10h", "fr", "FREQ=MONTHLY;INTERVAL=1;BYDAY=+2TU",
     ["Tue 10/03 10:00", "Tue 14/04 10:00", "Tue 12/05 10:00"]),
    ("le 5 de chaque mois à 9h", "fr", "FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=5",
     ["Thu 05/03 09:00", "Sun 05/04 09:00", "Tue 05/05 09:00"]),
    ("un mardi sur deux à 10h", "fr", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU",
     ["Tue 03/03 10:00", "Tue 17/03 10:00", "Tue 31/03 10:00"]),
    ("elke eerste maandag om 9u30", "nl", "FREQ=MONTHLY;INTERVAL=1;BYDAY=+1MO",
     ["Mon 06/04 09:30", "Mon 04/05 09:30", "Mon 01/06 09:30"]),
    ("om de 2 weken op dinsdag om 10u", "nl", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU",
     ["Tue 03/03 10:00", "Tue 17/03 10:00", "Tue 31/03 10:00"]),
    ("elke werkdag om 8u", "nl", "FREQ=WEEKLY;INTERVAL=1;BYDAY=MO,TU,WE,TH,FR",
     ["Tue 03/03 08:00", "Wed 04/03 08:00", "Thu 05/03 08:00"]),
    ("jeden Freitag 14 Uhr", "de", "FREQ=WEEKLY;INTERVAL=1;BYDAY=FR",
     ["Fri 06/03 14:00", "Fri 13/03 14:00", "Fri 20/03 14:00"]),
    ("jeden Monat am 5. um 10 Uhr", "de", "FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=5",
     ["Thu 05/03 10:00", "Sun 05/04 10:00", "Tue 05/05 10:00"]),
    ("jeden zweiten Dienstag 10 Uhr", "de", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU",
     ["Tue 03/03 10:00", "Tue 17/03 10:00", "Tue 31/03 10:00"]),
    ("every weekday at 8:45", "en", "FREQ=WEEKLY;INTERVAL=1;BYDAY=MO,TU,WE,TH,FR",
     ["Tue 03/03 08:45", "Wed 04/03 08:45", "Thu 05/03 08:45"]),
    ("every 2 weeks on Tuesday at 10:00", "en", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU",
     ["Tue 03/03 10:00", "Tue 17/03 10:00", "Tue 31/03 10:00"]),
    ("monthly on the 5th", "en", "FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=5",
     ["Thu 05/03 09:00", "Sun 05/04 09:00", "Tue 05/05 09:00"]),
    ("last friday of the month at 16:00", "en", "FREQ=MONTHLY;INTERVAL=1;BYDAY=-1FR",
     ["Fri 27/03 16:00", "Fri 24/04 16:00", "Fri 29/05 16:00"]),
    ("кожного понеділка о 10:00", "uk", "FREQ=WEEKLY;INTERVAL=1;BYDAY=MO",
     ["Mon 09/03 10:00", "Mon 16/03 10:00", "Mon 23/03 10:00"]),
])
def test_recurrences_in_every_language(text, locale, rule, first):
    assert next_three(text, locale) == (rule, first)


@pytest.mark.parametrize("text, locale, expected", [
    ("demain à 9h", "fr", "Tue 03/03 09:00"),
    ("après-demain à 8h", "fr", "Wed 04/03 08:00"),
    ("vendredi 14h", "fr", "Fri 06/03 14:00"),
    ("5 mars 10h", "fr", "Thu 05/03 10:00"),
    ("morgen om 9u30", "nl", "Tue 03/03 09:30"),
    ("over 2 minuten", "nl", "Mon 02/03 10:02"),
    ("morgen um 14 Uhr", "de", "Tue 03/03 14:00"),
    ("5. März 10 Uhr", "de", "Thu 05/03 10:00"),
    ("in 2 Minuten", "de", "Mon 02/03 10:02"),
    ("in 2 minutes", "en", "Mon 02/03 10:02"),
    ("5/3 14:00", "en", "Thu 05/03 14:00"),  # day first, as Belgians write it
    ("05.03.2026 14:00", "de", "Thu 05/03 14:00"),
    ("2026-03-05 14:00", "en", "Thu 05/03 14:00"),
    ("2026-03-05T14:00", "en", "Thu 05/03 14:00"),
    ("at 14:00", "en", "Mon 02/03 14:00"),
    ("March 5 at 3pm", "en", "Thu 05/03 15:00"),
    ("завтра о 9:00", "uk", "Tue 03/03 09:00"),
])
def test_one_off_times_in_every_language(text, locale, expected):
    assert next_three(text, locale) == (None, [expected])


def test_lead_times_and_holidays_are_read_in_each_language():
    for text in ("every monday at 10:00, 1 day and 1 hour before",
                 "chaque lundi à 10h, 1 jour et 1 heure avant",
                 "elke maandag om 10u, 1 dag en 1 uur vooraf",
                 "jeden Montag 10 Uhr, 1 Tag und 1 Stunde vorher"):
        assert parse_when(text, "en", "Europe/Brussels", NOW).leads_minutes == (1440, 60), text
    for text in ("every monday at 10 except public holidays",
                 "chaque lundi à 10h sauf jours fériés",
                 "elke maandag om 10u behalve feestdagen",
                 "jeden Montag 10 Uhr außer Feiertagen"):
        assert parse_when(text, "en", "Europe/Brussels", NOW).skip_holidays, text


def test_easter_monday_is_skipped_when_asked():
    _rule, times = next_three("every monday at 10:00 except holidays")
    when = parse_when("every monday at 10:00 except holidays", "en", "Europe/Brussels",
                      datetime(2026, 3, 31, tzinfo=UTC))
    mondays = [t.astimezone(BRUSSELS).date().isoformat()
               for t in when.recurrence().next_occurrences(datetime(2026, 3, 31, tzinfo=UTC), 2)]
    assert mondays == ["2026-04-13", "2026-04-20"]  # 6 April 2026 is Easter Monday


@pytest.mark.parametrize("text, fragment", [
    ("blah", "could not read"),
    ("1/1/2020 10:00", "in the past"),
    ("yesterday", "in the past"),
    ("every 2 minutes", "too often"),
    ("25/13 10:00", "not a valid date"),
    ("chaque lundi à 25h", "not a valid time"),
    ("every 0 days at 10:00", "never happens"),  # once made dateutil loop for ever
    ("tous les 0 jours à 10h", "never happens"),
])
def test_bad_input_is_explained(text, fragment):
    with pytest.raises(WhenError) as problem:
        parse_when(text, "en", "Europe/Brussels", NOW)
    assert fragment in str(problem.value)


def test_errors_are_translated():
    catalogues = Catalogues(PROJECT_ROOT / "locales")
    expected = {"fr": "trop souvent", "nl": "te vaak", "de": "zu oft", "uk": "занадто часто"}
    for locale, fragment in expected.items():
        with catalogues.use(locale), pytest.raises(WhenError) as problem:
            parse_when("every minute", locale, "Europe/Brussels", NOW)
        assert fragment in str(problem.value), locale


def test_every_ten_minutes_is_allowed():
    rule, times = next_three("every 10 minutes")
    assert rule == "FREQ=MINUTELY;INTERVAL=10" and len(times) == 3
