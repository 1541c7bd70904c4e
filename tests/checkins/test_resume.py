"""A restart in the middle of a check-in resumes at the same question with nothing lost."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.checkins.models import CheckinAssignment
from bot.clock import FakeClock
from tests.checkins.conftest import deliver, register
from tests.harness import RecordingTransport
from tests.harness import START, make_bot


async def test_kill_mid_conversation_and_resume(tmp_path, database_url):
    clock = FakeClock(START)
    bot = await make_bot(tmp_path, database_url, clock=clock, admins=["console:alice"])
    bot.services.transports.add(RecordingTransport())
    await register(bot, ["fiona"])
    await bot.say("/rounds open monthly_regional; 2026-03-10 12:00; @fiona", as_="alice",
                  chat="coord")
    await bot.say("1", as_="alice", chat="coord")
    await deliver(bot)
    assert "Question 2 of 8" in await bot.ask("3", as_="fiona")  # Wallonia
    assert "Question 3 of 8" in await bot.ask("2026-03-01", as_="fiona")
    # The process dies here: no clean shutdown of the conversation, only the database stays.
    await bot.close()

    clock.advance(timedelta(hours=5))
    bot = await make_bot(tmp_path, database_url, clock=clock, admins=["console:alice"])
    bot.services.transports.add(RecordingTransport())
    try:
        # The next message is taken as the answer to question 3…
        assert "Question 4 of 8" in await bot.ask("1200", as_="fiona")
        # …and /back shows that the answers given before the restart are still there.
        back = await bot.ask("/back", as_="fiona")
        assert "Question 3 of 8" in back and "Current answer: 1200" in back
        for text in ["/skip", "300", "450", "/skip", "2", "/skip"]:
            await bot.say(text, as_="fiona")
        review = await bot.ask("/checkin", as_="fiona")
        assert "Wallonia" in review and "01/03/2026" in review and "1200" in review
        assert "recorded" in await bot.ask("1", as_="fiona")
        async with bot.services.db.session() as session:
            stored = await session.scalar(select(CheckinAssignment.answers))
        assert stored == {"region": "BE-WAL", "month": "2026-03-01", "residents": 1200,
                          "collective": 300, "income_support": 450, "employment_rate": None,
                          "trend": "stable", "highlights": None}
    finally:
        await bot.close()
