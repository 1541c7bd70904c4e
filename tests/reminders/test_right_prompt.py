"""Issue 12, "the right prompt gets the answer": a focal point answering a check-in receives a
meeting reminder and can answer both — by number when only one could take it, in words
("je serai là", "kan niet komen"), with the short command the reminder shows, and after one
short question when a number could be for either."""
from datetime import timedelta

import pytest

from bot.reminders.answers import read_answer
from bot.reminders.models import Acknowledgement, Broadcast
from tests.reminders.test_commands import create

LANGUAGES = {
    "fr": {"attend": "je serai là", "cannot": "Je ne peux pas venir", "noted": "c’est noté",
           "question": "Question {n} sur 7", "which": "À quelle question", "no": "non",
           "short": "/ack R1 oui ou /ack R1 non"},
    "nl": {"attend": "ik kom", "cannot": "kan niet komen", "noted": "genoteerd",
           "question": "Vraag {n} van 7", "which": "Op welke vraag", "no": "nee",
           "short": "/ack R1 ja of /ack R1 nee"},
}


async def _focal_point_answering_a_check_in(bot, lang: str) -> None:
    await bot.say("/whoami", as_="fiona")
    await bot.say(f"/lang {lang}", as_="fiona")
    await bot.say("/role @fiona focal_point", as_="alice")
    await bot.ask("/rounds open weekly_local; 2026-03-06 17:00; @fiona", as_="alice")
    assert "is open" in await bot.ask("1", as_="alice")


async def _meeting(bot, inbox, title: str, minutes: int = 5):
    await create(bot, f"/meeting in {minutes} minutes; {title}; @fiona")
    bot.clock.advance(timedelta(minutes=minutes))
    await bot.services.reminders.run_due()
    return [r for k, r in inbox.sent if k == "console:fiona" and r.text.startswith(title)][-1]


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
async def test_a_focal_point_with_a_check_in_open_can_answer_a_meeting(bot, inbox, lang):
    said = LANGUAGES[lang]
    await _focal_point_answering_a_check_in(bot, lang)
    reminder = await _meeting(bot, inbox, "Coordination")
    assert said["short"] in reminder.plain()          # the short form is shown in the reminder

    # Words only a reminder reads go to the reminder; the check-in question stays open.
    assert said["noted"] in await bot.ask(said["attend"], as_="fiona")
    # The reminder is answered: `1` is the check-in's again (province 1).
    assert said["question"].format(n=2) in await bot.ask("1", as_="fiona")

    # A second meeting while question 2 (a number) is open: `2` could be either → one question.
    await _meeting(bot, inbox, "Bilan", minutes=10)
    [which] = await bot.say("2", as_="fiona")
    assert said["which"] in which.text and len(which.choices) == 2
    assert "Bilan" in which.choices[1].label
    assert said["question"].format(n=3) in await bot.ask("1", as_="fiona")  # 2 arrivals
    # The check-in was chosen: its next numbers go to it without asking again…
    assert said["question"].format(n=4) in await bot.ask("5", as_="fiona")
    # …and the meeting is still answered in words or with the short command.
    assert said["noted"] in await bot.ask(said["cannot"], as_="fiona")
    assert said["noted"] in await bot.ask(f"/ack R2 {said['no']}", as_="fiona")
    answers = await bot.ask("/acks R1", as_="alice")
    assert "1 will attend: fiona" in answers
    assert "1 cannot attend: fiona" in await bot.ask("/acks R2", as_="alice")
    assert await bot.count(Acknowledgement) == 2


async def test_a_number_only_one_prompt_takes_goes_to_it_without_asking(bot, inbox):
    await _focal_point_answering_a_check_in(bot, "en")
    await _meeting(bot, inbox, "Coordination")
    assert "Question 2 of 7" in await bot.ask("Liège", as_="fiona")   # not a reminder's answer
    reply = await bot.ask("3", as_="fiona")   # 3 arrivals; a meeting has choices 1 and 2 only
    assert "Question 3 of 7" in reply
    assert "noted" in await bot.ask("I'll be there", as_="fiona")


async def test_a_preview_button_stays_bound_to_its_preview(bot, inbox):
    """A reminder arriving after a preview does not take the preview's Confirm button."""
    await bot.say("/whoami", as_="fiona")
    await bot.say("/role @fiona focal_point", as_="alice")
    await create(bot, "/meeting in 5 minutes; Coordination; @fiona, @alice")
    [preview] = await bot.say("/broadcast role:focal_point; Office closed on Friday", as_="alice")
    bot.clock.advance(timedelta(minutes=5))
    await bot.services.reminders.run_due()
    assert "B1" in await bot.ask(preview.choices[0].value, as_="alice")   # the Confirm button
    assert await bot.count(Broadcast) == 1
    assert "noted" in await bot.ask("1", as_="alice")                      # then the meeting
    assert "1 will attend: alice" in await bot.ask("/acks R1", as_="alice")


async def test_a_preview_shown_after_a_reminder_takes_the_next_number(bot, inbox):
    await create(bot, "/meeting in 5 minutes; Coordination")
    bot.clock.advance(timedelta(minutes=5))
    await bot.services.reminders.run_due()
    await bot.say("/broadcast all; Office closed on Friday", as_="alice")
    assert "B1" in await bot.ask("1", as_="alice")       # the preview is what alice sees last
    assert "noted" in await bot.ask("2", as_="alice")    # the meeting is still waiting


async def test_two_reminders_waiting_ask_which_one(bot, inbox):
    await create(bot, "/meeting in 5 minutes; Coordination")
    await create(bot, "/meeting in 5 minutes; Site visit")
    bot.clock.advance(timedelta(minutes=5))
    await bot.services.reminders.run_due()
    [which] = await bot.say("2", as_="alice")
    assert [c.value for c in which.choices] == ["1", "2"]
    assert "noted for Site visit: cannot attend" in await bot.ask(
        next(c.value for c in which.choices if "Site visit" in c.label), as_="alice")
    assert "noted for Coordination: cannot attend" in await bot.ask("2", as_="alice")


async def test_the_short_command_reads_every_language(bot, inbox):
    await bot.say("/whoami", as_="bob")
    await create(bot, "/meeting in 5 minutes; Coordination; @bob")
    bot.clock.advance(timedelta(minutes=5))
    await bot.services.reminders.run_due()
    for answer, expected in (("oui", "will attend"), ("kan niet komen", "cannot attend"),
                             ("ich komme", "will attend"), ("2", "cannot attend"),
                             ("I'll be there", "will attend"), ("не можу", "cannot attend")):
        assert expected in await bot.ask(f"/ack R1 {answer}", as_="bob"), answer
    assert "could not record" in await bot.ask("/ack R1 done", as_="bob")
    assert "could not record" in await bot.ask("/ack R1 peut-être", as_="bob")


def test_answers_in_words():
    table = [("Je serai là !", "meeting", "yes"), ("je ne peux pas venir", "meeting", "no"),
             ("Kan niet komen.", "meeting", "no"), ("ik kom", "meeting", "yes"),
             ("Ich komme", "meeting", "yes"), ("ich bin verhindert", "meeting", "no"),
             ("I’ll be there, thanks", "meeting", "yes"), ("буду", "meeting", "yes"),
             ("c'est fait", "deadline", "done"), ("klaar", "deadline", "done"),
             ("1", "deadline", "done"), ("2", "deadline", None), ("oui", "meeting", None),
             ("je serai là", "deadline", None), ("3", "meeting", None)]
    for text, kind, expected in table:
        assert read_answer(text, kind) == expected, text
    assert read_answer("oui", "meeting", command=True) == "yes"


async def test_the_round_preview_button_is_not_taken_by_a_newer_reminder(bot, inbox):
    await bot.say("/whoami", as_="fiona")
    await bot.say("/role @fiona focal_point", as_="alice")
    await create(bot, "/meeting in 5 minutes; Coordination")
    [preview] = await bot.say("/rounds open weekly_local; 2026-03-06 17:00; @fiona", as_="alice")
    bot.clock.advance(timedelta(minutes=5))
    await bot.services.reminders.run_due()      # a reminder arrives after the preview
    assert "is open" in await bot.ask(preview.choices[0].value, as_="alice")
    assert "noted" in await bot.ask("1", as_="alice")


async def test_a_check_in_in_progress_waits_beside_a_preview(bot, inbox):
    await bot.ask("/rounds open weekly_local; 2026-03-06 17:00; @alice", as_="alice")
    assert "is open" in await bot.ask("1", as_="alice")
    assert "Question 2 of 7" in await bot.ask("1", as_="alice")
    await bot.say("/remind tomorrow 9:00; Call the CPAS", as_="alice")
    assert "Saved as R1" in await bot.ask("1", as_="alice")      # the preview was asked last
    assert "Question 3 of 7" in await bot.ask("5", as_="alice")  # the check-in goes on
