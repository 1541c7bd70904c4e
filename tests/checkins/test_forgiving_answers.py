"""Check-in answers as people write them: option labels in any of the form's languages, accent-
and case-insensitive, unique prefixes; several choices joined by words; Belgian numbers; dates
and months in words in the five languages; submit words per language; constraint messages that
give the real bound; no form internals in what a person reads."""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.checkins.form_files import load_form
from bot.checkins.models import CheckinAssignment
from tests.checkins.conftest import deliver, register
from tests.english import english_in

FORMS = Path(__file__).resolve().parents[2] / "data" / "forms"
WEEKLY = load_form(FORMS / "weekly_local.xlsx")
MONTHLY = load_form(FORMS / "monthly_regional.yaml")
TODAY = date(2026, 12, 2)


@pytest.mark.parametrize("text, expected", [
    ("orange", "amber"), ("Orange", "amber"), ("ORANJE", "amber"), ("gelb", "amber"),
    ("sous tension", "amber"), ("onder druk", "amber"), ("жовтий", "amber"),
    ("rouge", "red"), ("debordé", "red"), ("overbelast", "red"), ("vert", "green"),
    ("groen", "green"), ("grün", "green"), ("Green", "green"), ("2", "amber"), ("red", "red"),
    ("Orange : sous tension", "amber"), ("orange sous tension", "amber"), ("oran", "amber"),
    ("2.", "amber"), ("3)", "red"),
])
def test_status_options_in_any_language_and_by_prefix(text, expected):
    assert WEEKLY.question("status").parse_answer(text, {}, "fr") == (expected, None)


@pytest.mark.parametrize("text, expected", [
    ("liege", "BE-WLG"), ("LIÈGE", "BE-WLG"), ("Luik", "BE-WLG"), ("lüttich", "BE-WLG"),
    ("oost-vlaanderen", "BE-VOV"), ("oost", "BE-VOV"), ("flandre orientale", "BE-VOV"),
    ("hainaut", "BE-WHT"), ("henegouwen", "BE-WHT"), ("brabant wallon", "BE-WBR"),
    ("waals", "BE-WBR"), ("bruxelles", "BE-BRU"), ("brussel", "BE-BRU"), ("льєж", "BE-WLG"),
])
def test_province_by_name_in_any_language(text, expected):
    assert WEEKLY.question("province").parse_answer(text, {}, "nl") == (expected, None)


def test_an_ambiguous_prefix_is_asked_back_with_the_candidates():
    value, problem = WEEKLY.question("province").parse_answer("brabant", {}, "fr")
    assert value is None and "Brabant flamand" in problem and "Brabant wallon" in problem
    assert WEEKLY.question("province").parse_answer("flandre", {}, "fr")[0] is None


@pytest.mark.parametrize("text", [
    "1 et 3", "1, 3", "1 en 3", "1 und 3", "1 and 3", "1 і 3", "1 та 3", "1 & 3", "1,3",
    "1 + 3", "interprètes et formation", "tolken en opleiding", "Dolmetscher und Schulung",
    "interpreters, staff training", "1 et formation du personnel", "3 1",
])
def test_several_choices_joined_by_words(text):
    assert WEEKLY.question("support").parse_answer(text, {}, "fr") == (
        ["interpreters", "training"], None)


@pytest.mark.parametrize("text, expected", [
    ("1.250", 1250), ("1 250", 1250), ("1\u00a0250", 1250), ("1\u202f250", 1250),
    ("1'250", 1250), ("12", 12), ("0", 0), ("1.234.567", 1234567), ("+5", 5),
])
def test_belgian_whole_numbers(text, expected):
    assert MONTHLY.question("residents").parse_answer(text, {}, "fr") == (expected, None)


@pytest.mark.parametrize("text", ["12,5", "1.5", "1,25", "douze", "1.2500"])
def test_not_a_whole_number(text):
    value, problem = MONTHLY.question("residents").parse_answer(text, {}, "fr")
    assert value is None and problem


@pytest.mark.parametrize("text, expected", [
    ("12,5", 12.5), ("12.5", 12.5), ("12,5 %", 12.5), ("12.5%", 12.5), ("40", 40.0),
    ("0,75", 0.75),
])
def test_decimal_numbers_with_comma_or_point(text, expected):
    assert MONTHLY.question("employment_rate").parse_answer(text, {}, "fr") == (expected, None)


def test_thousands_with_a_decimal_comma():
    from bot.checkins.answers import read_decimal
    assert read_decimal("1.250,5") == 1250.5
    assert read_decimal("1 250,5") == 1250.5
    assert read_decimal("1,250.5") == 1250.5


@pytest.mark.parametrize("text, expected", [
    ("1 november 2026", "2026-11-01"), ("november 2026", "2026-11-01"),
    ("1er décembre", "2026-12-01"), ("1er decembre 2026", "2026-12-01"),
    ("3. Dezember", "2026-12-03"), ("3. Dezember 2026", "2026-12-03"),
    ("novembre 2026", "2026-11-01"), ("novembre", "2026-11-01"), ("le 1er novembre", "2026-11-01"),
    ("1 листопада 2026", "2026-11-01"), ("листопад 2026", "2026-11-01"),
    ("November 1, 2026", "2026-11-01"), ("1st November 2026", "2026-11-01"),
    ("1 nov. 2026", "2026-11-01"), ("1 mrt 2026", "2026-03-01"), ("März 2026", "2026-03-01"),
    ("31/03/2026", "2026-03-31"), ("2026-03-31", "2026-03-31"), ("31.03.2026", "2026-03-31"),
    ("1/11", "2026-11-01"), ("11/2026", "2026-11-01"), ("1 janvier", "2027-01-01"),
    ("août 2026", "2026-08-01"), ("aout 2026", "2026-08-01"), ("1 oktober 2026", "2026-10-01"),
])
def test_dates_and_months_in_words(text, expected):
    value, problem = MONTHLY.question("month").parse_answer(text, {}, "fr", today=TODAY)
    assert (value, problem) == (expected, None)


@pytest.mark.parametrize("text", ["soon", "31 février 2026", "13/2026", "32/01/2026",
                                  "novembre 2026 2027"])
def test_what_is_not_a_date_is_refused(text):
    assert MONTHLY.question("month").parse_answer(text, {}, "fr", today=TODAY)[0] is None


@pytest.mark.parametrize("text, expected", [
    ("envoyer", "submit"), ("Envoyer !", "submit"), ("verzenden", "submit"), ("senden", "submit"),
    ("так", "submit"), ("send", "submit"), ("oui", "submit"), ("ja", "submit"), ("1", "submit"),
    ("valider", "submit"), ("indienen", "submit"), ("absenden", "submit"),
    ("надіслати", "submit"), ("modifier", "change"), ("wijzigen", "change"),
    ("ändern", "change"), ("2", "change"), ("non", "change"), ("змінити", "change"),
    ("peut-être", None), ("3", None),
])
def test_review_words_in_every_language(text, expected):
    from bot.checkins.answers import review_choice
    assert review_choice(text) == expected


def test_constraint_message_gives_the_real_bound(tmp_path):
    from bot.i18n import Catalogues
    catalogues = Catalogues(Path(__file__).resolve().parents[2] / "locales")
    with catalogues.use("en"):
        value, problem = MONTHLY.parse_answer("collective", "400", {"residents": 340}, "en")
    assert value is None
    assert "340" in problem and "question 3" in problem and "number of residents" not in problem
    with catalogues.use("fr"):
        problem = MONTHLY.parse_answer("collective", "400", {"residents": 340}, "fr")[1]
    assert "340" in problem and "question 3" in problem and not english_in(problem, "fr")
    # a bound the form's own message states precisely is kept as the form says it
    with catalogues.use("en"):
        problem = MONTHLY.parse_answer("employment_rate", "101", {}, "en")[1]
    assert problem == "Enter a percentage between 0 and 100."


def test_no_constraint_rule_reaches_a_person():
    form = load_form(FORMS / "monthly_regional.yaml")
    residents = form.question("residents")
    residents.constraint_messages = {}
    problem = residents.parse_answer("-4", {}, "en")[1]
    assert "0" in problem and "." not in problem.rstrip(".") and ">=" not in problem


# ---- through the chat ------------------------------------------------------------------

async def _open(bot, form: str, deadline: str = "2026-03-06 17:00") -> None:
    preview = await bot.ask(f"/rounds open {form}; {deadline}; role:focal_point",
                            as_="alice", chat="coord")
    assert "recipient" in preview, preview
    assert "open" in await bot.ask("1", as_="alice", chat="coord")
    await deliver(bot)


async def _answers(bot, name: str) -> dict:
    async with bot.services.db.session() as session:
        users = await bot.services.people.find(session, name, "console")
        row = await session.scalar(select(CheckinAssignment).where(
            CheckinAssignment.user_id == users.id))
        return row.answers or {}


async def test_a_french_focal_point_answers_in_their_own_words(checkin_bot):
    bot = checkin_bot
    await register(bot, ["amelie"], languages={"amelie": "fr"})
    await _open(bot, "weekly_local")
    replies = []
    for text in ["liege", "1.250", "1 250", "orange", "logement", "1 et 3", "/skip"]:
        reply = await bot.ask(text, as_="amelie")
        replies.append(reply)
        assert reply.startswith(("Question", "Vérifiez")), (text, reply)
    assert "Merci" in await bot.ask("envoyer", as_="amelie")
    assert await _answers(bot, "amelie") == {
        "province": "BE-WLG", "arrivals": 1250, "places_available": 1250, "status": "amber",
        "bottleneck": "housing", "support": ["interpreters", "training"], "comment": None}
    leaks = [english_in(reply, "fr") for reply in replies]
    assert not any(leaks), leaks


async def test_a_dutch_focal_point_answers_in_their_own_words(checkin_bot):
    bot = checkin_bot
    await register(bot, ["bram"], languages={"bram": "nl"})
    await _open(bot, "weekly_local")
    replies = []
    for text in ["Oost-Vlaanderen", "12", "3", "oranje", "personeel", "1 en 3", "/skip"]:
        reply = await bot.ask(text, as_="bram")
        replies.append(reply)
        assert reply.startswith(("Vraag", "Controleer")), (text, reply)
    assert "Bedankt" in await bot.ask("verzenden", as_="bram")
    answers = await _answers(bot, "bram")
    assert answers["status"] == "amber" and answers["bottleneck"] == "staff"
    assert answers["support"] == ["interpreters", "training"]
    assert not any(english_in(reply, "nl") for reply in replies)


async def test_monthly_report_with_dates_in_words_and_the_real_bound(checkin_bot):
    bot = checkin_bot
    await register(bot, ["chloe"], languages={"chloe": "fr"})
    await _open(bot, "monthly_regional")
    for text in ["wallonie", "novembre 2025", "340"]:
        reply = await bot.ask(text, as_="chloe")
        assert reply.startswith("Question"), (text, reply)
    refused = await bot.ask("400", as_="chloe")
    assert "340" in refused and "question 3" in refused, refused
    assert "nombre de résidents" not in refused
    for text in ["300", "1.250", "12,5", "hausse"]:
        reply = await bot.ask(text, as_="chloe")
        assert reply.startswith(("Question", "Vérifiez")), (text, reply)
    review = await bot.ask("/skip", as_="chloe")
    assert "12,5" in review or "12.5" in review
    assert "Merci" in await bot.ask("oui", as_="chloe")
    answers = await _answers(bot, "chloe")
    assert answers["month"] == "2025-11-01" and answers["collective"] == 300
    assert answers["income_support"] == 1250 and answers["employment_rate"] == 12.5


async def test_forms_show_no_internals(checkin_bot):
    bot = checkin_bot
    await bot.say("/lang fr", as_="alice")
    for code in ("weekly_local", "monthly_regional"):
        text = await bot.ask(f"/forms {code}", as_="alice")
        assert not re.search(r"\[(select_one|select_multiple|integer|decimal|text|date)\]", text)
        assert "${" not in text and "!=" not in text and "selected(" not in text, text
        assert not english_in(text, "fr"), english_in(text, "fr")
    described = await bot.ask("/forms weekly_local", as_="alice")
    assert "question 4" in described and "« Vert : sous contrôle »" in described
