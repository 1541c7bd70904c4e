"""`/forget` reaches every copy the bot keeps, at once: messages addressed to others that hold
the person's name or free-text answers (pending ones are rewritten, sent ones redacted), the
account's organisation, others' audiences that name the person, and the person's own
broadcasts and reminders still waiting to go out."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.checkins.models import CheckinRound
from bot.conversations import PendingConversation
from bot.outbox import PENDING, OutboxMessage
from bot.people import User
from bot.reminders.models import Schedule
from tests.checkins.conftest import checkin_bot, deliver, register  # noqa: F401 - fixture
from tests.trust.helpers import invite
from tests.trust.test_feature_privacy import forget, rows

HIGHLIGHT = "Maria from Kharkiv needs a flat"


async def outbox_texts(bot, *, pending_only: bool = False) -> list[str]:
    query = select(OutboxMessage.text)
    if pending_only:
        query = query.where(OutboxMessage.status == PENDING)
    return await rows(bot, query)


async def round_with_one_answer(bot) -> None:
    """olga answers (with a free-text highlight), piet does not; the round is closed from the
    coordinators' chat, so its summary is queued there."""
    await register(bot, ["olga", "piet"])
    await bot.say("/rounds open monthly_regional; 2026-03-06 17:00; role:focal_point",
                  as_="alice", chat="coord")
    await bot.say("1", as_="alice", chat="coord")
    await deliver(bot)
    for text in ["1", "2026-03-01", "1000", "200", "300", "/skip", "1", HIGHLIGHT]:
        await bot.say(text, as_="olga")
    assert "recorded" in await bot.ask("1", as_="olga")
    await bot.say("/rounds close monthly_regional", as_="alice", chat="coord")


async def test_a_pending_round_summary_loses_the_names_and_texts_of_erased_people(checkin_bot):  # noqa: F811
    bot = checkin_bot
    await round_with_one_answer(bot)
    [summary] = [t for t in await outbox_texts(bot, pending_only=True) if "Closed" in t]
    assert "Not answered yet: piet" in summary and HIGHLIGHT in summary
    await forget(bot, "piet")
    await forget(bot, "olga")
    texts = await outbox_texts(bot)
    assert not [t for t in texts if "piet" in t or "Maria" in t]
    bot.transport.clear()
    await deliver(bot)
    [summary] = bot.transport.to("coord")
    assert "piet" not in summary and "Maria" not in summary
    assert "Not answered yet: 1 person" in summary and "total 1000" in summary


async def test_a_sent_round_summary_is_redacted_in_the_stored_copy(checkin_bot):  # noqa: F811
    bot = checkin_bot
    await round_with_one_answer(bot)
    await deliver(bot)
    assert any("Not answered yet: piet" in t for t in bot.transport.to("coord"))
    await forget(bot, "piet")
    await forget(bot, "olga")
    assert not [t for t in await outbox_texts(bot) if "piet" in t or "Maria" in t]


async def test_the_account_keeps_no_organisation(bot):
    code = await invite(bot, org="cpas-liege")
    await bot.say(f"/start {code}", as_="fiona")
    await forget(bot, "fiona")
    assert "cpas-liege" not in await rows(bot, select(User.organisation_id))


async def test_delivery_reports_to_others_lose_the_name_of_an_erased_person(checkin_bot):  # noqa: F811
    bot = checkin_bot
    await bot.say("/whoami", as_="carl")
    await bot.say("/role carl coordinator", as_="alice")
    await bot.say("/whoami", as_="dora", chat="group1")  # no direct chat: unreachable
    await bot.say("/broadcast @dora, @alice; Shelter full", as_="carl")
    await bot.say("1", as_="carl")
    await deliver(bot)
    await bot.services.reminders.report_broadcasts()
    await deliver(bot)
    assert any("dora" in t for t in bot.transport.to("carl") if "Broadcast B1" in t)
    await forget(bot, "dora", chat=None)
    [report] = [t for t in await outbox_texts(bot) if "Broadcast B1" in t]
    assert "dora" not in report and "1 sent, 1 failed" in report


async def test_an_erased_persons_broadcast_and_reminders_are_not_sent_later(checkin_bot):  # noqa: F811
    bot = checkin_bot
    await bot.say("/whoami", as_="carl")
    await bot.say("/role carl coordinator", as_="alice")
    await bot.say("/whoami", as_="4242", platform="telegram")  # no Telegram transport here:
    await bot.say("/broadcast telegram:4242, @alice; Shelter full, call Carl on 0470 12 34 56",
                  as_="carl")
    await bot.say("1", as_="carl")
    await bot.say("/remind tomorrow 9:00; Carl's number is 0470 12 34 56; telegram:4242",
                  as_="carl")
    await bot.say("1", as_="carl")
    bot.clock.advance(timedelta(days=1))
    await bot.services.reminders.run_due()
    pending = await outbox_texts(bot, pending_only=True)  # the Telegram copies still wait
    assert len([t for t in pending if "0470" in t]) == 2
    assert any("0470" in t for t in bot.transport.to("alice"))  # alice's was sent
    await forget(bot, "carl")
    assert not [t for t in await outbox_texts(bot) if "0470" in t or "carl" in t.lower()]


async def test_others_audiences_no_longer_name_the_erased_person(checkin_bot):  # noqa: F811
    bot = checkin_bot
    await register(bot, ["piet"])
    await bot.say("/meeting every tuesday 10:00; Team; @piet, here", as_="alice", chat="coord")
    await bot.say("1", as_="alice", chat="coord")
    await bot.say("/rounds open monthly_regional; 2026-03-20 17:00; @piet; 2026-03-10 09:00",
                  as_="alice", chat="coord")
    await bot.say("1", as_="alice", chat="coord")
    [piet_id] = await rows(bot, select(User.id).where(User.display_name == "piet"))
    [audience] = await rows(bot, select(Schedule.audience))
    assert f"user:{piet_id}" in audience
    [round_audience] = await rows(bot, select(CheckinRound.audience))
    assert f"user:{piet_id}" in round_audience     # `@piet` is stored as the person's id
    await forget(bot, "piet")
    [audience] = await rows(bot, select(Schedule.audience))
    assert f"user:{piet_id}" not in audience and audience  # the group stays
    [round_audience] = await rows(bot, select(CheckinRound.audience))
    assert f"user:{piet_id}" not in round_audience and "piet" not in round_audience


async def test_previews_awaiting_confirmation_no_longer_name_the_erased_person(checkin_bot):  # noqa: F811
    bot = checkin_bot
    await register(bot, ["piet"])
    [piet_id] = await rows(bot, select(User.id).where(User.display_name == "piet"))
    await bot.say("/broadcast @piet, here; Shelter full", as_="alice", chat="coord")
    await bot.say("/rounds open monthly_regional; 2026-03-20 17:00; @piet, role:coordinator",
                  as_="alice", chat="coord2")
    payloads = [p.payload for p in await rows(bot, select(PendingConversation))]
    assert sum(f"user:{piet_id}" in str(p.get("audience")) for p in payloads) == 2
    await forget(bot, "piet")
    payloads = [p.payload for p in await rows(bot, select(PendingConversation))]
    assert len(payloads) == 2
    assert not [p for p in payloads if f"user:{piet_id}" in p["audience"]
                or "piet" in str(p["audience"])]
