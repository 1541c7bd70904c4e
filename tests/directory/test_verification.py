"""Re-verification: every 90 days (configurable) each entry's focal point is asked in a direct
chat whether the entry is still correct; "Still correct" verifies it, "Needs changes" is
recorded and listed by /stale. The clock is a FakeClock (Monday 2 March 2026)."""
from __future__ import annotations

from datetime import timedelta

from tests.directory.verification import ROWS, questions, run
from tests.harness import RecordingTransport, make_bot
from tests.places import link, load_directory


async def test_a_linked_focal_point_confirms_with_the_button_number(vbot):
    bot = vbot
    await bot.say("/start", as_="luc")
    await link(bot, "luc", entry_id="cpas-liege")
    assert await run(bot) == 0  # verified 60 days ago: not due yet
    bot.clock.advance(timedelta(days=30))
    assert await run(bot) == 1
    [(chat, reply)] = questions(bot)
    assert chat == "console:luc" and "CPAS de Liège" in reply.text
    assert [c.label for c in reply.choices] == ["Still correct", "Needs changes"]
    assert "verified as of 2026-04-01" in await bot.ask("1", as_="luc")
    assert "Verified on 2026-04-01" in await bot.ask("/entry cpas-liege", as_="luc")
    bot.sent["console"].clear()
    bot.clock.advance(timedelta(days=89))
    assert await run(bot) == 0  # confirmed: the next question comes 90 days later
    bot.clock.advance(timedelta(days=1))
    assert await run(bot) == 1
    assert await run(bot) == 0  # asked once per period


async def test_handles_find_the_focal_point_once_they_have_written(vbot):
    bot = vbot
    assert await run(bot) == 0  # nobody has written yet: nobody can be asked
    await bot.say("/start", as_="Jane_FP", platform="telegram")
    await bot.say("/start", as_="@fp:example.org", platform="matrix")
    assert await run(bot) == 2  # Gent (Telegram) and Forem (Matrix); closed entries are not asked
    [(chat, reply)] = questions(bot, "telegram")
    assert chat == "telegram:Jane_FP" and "OCMW Gent" in reply.text
    assert reply.choices[0].value == "/verify ocmw-gent ok"
    [(chat, reply)] = questions(bot, "matrix")
    assert "Forem" in reply.text and reply.choices[1].value == "!verify forem changes"
    # A button press arrives as its value.
    answer = await bot.ask("/verify ocmw-gent ok", as_="Jane_FP", platform="telegram")
    assert "verified as of 2026-03-02" in answer


async def test_needs_changes_is_recorded_and_listed_by_stale(vbot):
    bot = vbot
    await bot.say("/start", as_="luc")
    await link(bot, "luc", entry_id="cpas-liege")
    bot.clock.advance(timedelta(days=30))
    await run(bot)
    answer = await bot.ask("Needs changes", as_="luc")
    # Issue 18: the focal point corrects the entry in chat (tests/directory/test_editing.py).
    assert "Correct your entry here" in answer and "• Phone: (empty)" in answer
    stale = await bot.ask("/stale", as_="alice")
    assert "need changes" in stale and "cpas-liege" in stale.split("need changes")[1]
    # Confirming later (the coordinator fixed it) clears the request.
    assert "verified" in await bot.ask("/verify cpas-liege ok", as_="luc")
    assert "need changes" not in await bot.ask("/stale", as_="alice")


async def test_only_the_focal_point_or_a_coordinator_answers(vbot):
    bot = vbot
    await bot.say("/start", as_="mallory")
    assert "Only the focal point" in await bot.ask("/verify cpas-liege ok", as_="mallory")
    assert "There is no entry" in await bot.ask("/verify nope ok", as_="mallory")
    assert "Usage" in await bot.ask("/verify cpas-liege maybe", as_="mallory")
    assert "verified as of" in await bot.ask("/verify cpas-liege ok", as_="alice")


async def test_the_question_is_in_the_focal_points_language_and_unrelated_text_is_a_query(vbot):
    bot = vbot
    await bot.say("/lang fr", as_="luc")
    await bot.say("/start", as_="nora")
    await link(bot, "luc", entry_id="cpas-liege")
    await link(bot, "nora", entry_id="fedasil")
    bot.clock.advance(timedelta(days=30))
    assert await run(bot) == 2
    by_chat = dict(questions(bot))
    french = by_chat["console:luc"]
    assert "toujours correcte" in french.text and french.choices[0].label == "Toujours correcte"
    # Something that is not an answer ends the question and is searched in the directory.
    assert "Fedasil" in await bot.ask("Fedasil", as_="nora")
    assert "Fedasil" in await bot.ask("/stale", as_="alice")  # still not verified


async def test_several_open_questions_are_answered_one_after_the_other(vbot):
    bot = vbot
    await bot.say("/start", as_="Jane_FP", platform="telegram")
    await link(bot, "Jane_FP", entry_id="fedasil", platform="telegram")
    await run(bot)
    assert len(questions(bot, "telegram")) == 2  # Fedasil (linked) and Gent (handle)
    first = await bot.say("1", as_="Jane_FP", platform="telegram")
    assert "verified" in first[0].text and first[1].choices  # the next question again
    second = await bot.ask("1", as_="Jane_FP", platform="telegram")
    assert "verified" in second
    stale = await bot.ask("/stale", as_="alice")
    assert "Fedasil" not in stale and "Gent" not in stale and "Forem" in stale


async def test_the_period_is_a_setting_and_the_job_has_a_stable_id(tmp_path, database_url):
    bot = await make_bot(tmp_path, database_url, directory_verify_every_days=30)
    try:
        bot.sent = {"console": RecordingTransport()}
        bot.services.transports.add(bot.sent["console"])
        await load_directory(bot, ROWS)
        await bot.say("/start", as_="luc")
        await link(bot, "luc", entry_id="cpas-liege")
        assert await run(bot) == 1  # verified 60 days ago: due after 30
        assert bot.services.scheduler.get_job("directory.verification") is not None
    finally:
        await bot.close()
