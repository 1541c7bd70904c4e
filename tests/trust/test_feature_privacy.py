"""Each feature's personal data: `/mydata` includes it, `/forget` removes it (keeping what is
organisational or an anonymous aggregate), and the daily retention job reduces check-in
answers to totals."""
from __future__ import annotations

from datetime import datetime, timedelta, UTC

from sqlalchemy import select

from bot.checkins.models import CheckinAbsence, CheckinAssignment, CheckinRound
from bot.directory.models import DirectoryEntry, LastQuery
from bot.messages import ChatRef
from bot.people import KnownChat, User
from bot.reminders.models import Acknowledgement, Broadcast, Schedule
from tests.checkins.conftest import checkin_bot, deliver, register  # noqa: F401 - fixture
from tests.directory.test_chat import load_sample
from tests.trust.helpers import invite
from tests.trust.test_privacy import my_data


async def forget(bot, name: str, **kwargs) -> None:
    await bot.say("/forget", as_=name, **kwargs)
    assert "erased" in await bot.ask("1", as_=name, **kwargs)


async def rows(bot, query):
    async with bot.services.db.session() as session:
        return list(await session.scalars(query))


async def test_directory_questions_and_entry_link_but_not_the_entry(bot):
    await load_sample(bot)
    code = await invite(bot, entry="cpas-liege")
    await bot.say(f"/start {code}", as_="fiona")
    await bot.say("/who housing 4000", as_="fiona")
    section = (await my_data(bot, as_="fiona"))["sections"]["directory"]
    assert section["last_questions"][0]["query"] == "housing 4000"
    assert section["linked_entry"]["entry_id"] == "cpas-liege"
    await forget(bot, "fiona")
    assert await rows(bot, select(LastQuery)) == []
    assert None in await rows(bot, select(User.entry_id))
    assert "cpas-liege" not in await rows(bot, select(User.entry_id))
    assert "cpas-liege" in await rows(bot, select(DirectoryEntry.id))  # organisational data


async def test_reminders_schedules_answers_and_broadcasts(bot):
    await bot.say("/whoami", as_="bob")
    await bot.say("/remind every monday 9:00; Call Marie at the CPAS", as_="bob")
    await bot.say("1", as_="bob")
    await bot.say("/meeting every tuesday 10:00; Team; @bob", as_="alice")
    await bot.say("1", as_="alice")
    occurrence = bot.services.reminders.upcoming(
        (await rows(bot, select(Schedule).where(Schedule.id == 2)))[0], 1)[0]
    token = occurrence.strftime("%Y%m%dT%H%M%SZ")
    assert "Thank you" in await bot.ask(f"/ack R2 {token} yes", as_="bob")
    section = (await my_data(bot, as_="bob"))["sections"]["reminders"]
    assert section["schedules"][0]["message"] == "Call Marie at the CPAS"
    assert section["answers"][0]["answer"] == "yes"
    await forget(bot, "bob")
    mine = (await rows(bot, select(Schedule).where(Schedule.id == 1)))[0]
    assert not mine.active and "Marie" not in mine.message + mine.title
    assert await rows(bot, select(Acknowledgement)) == []
    assert (await rows(bot, select(Schedule).where(Schedule.id == 2)))[0].active  # alice's


async def test_broadcast_text_and_names_in_delivery_lists_are_erased(bot):
    await bot.say("/whoami", as_="carl")
    await bot.say("/role carl coordinator", as_="alice")
    await bot.say("/whoami", as_="dora", chat="group1")  # no direct chat: unreachable
    await bot.say("/broadcast @dora, @alice; Shelter full", as_="carl")
    await bot.say("1", as_="carl")
    assert (await my_data(bot, as_="carl"))["sections"]["reminders"]["broadcasts_sent"]
    [broadcast] = await rows(bot, select(Broadcast))
    assert broadcast.unreachable[0]["name"] == "dora"
    await forget(bot, "dora", chat=None)
    await forget(bot, "carl")
    [broadcast] = await rows(bot, select(Broadcast))
    assert "Shelter" not in broadcast.text and broadcast.unreachable[0]["name"] != "dora"


REGIONS = {"olga": "1", "piet": "2"}
FIGURES = {"olga": ("1000", "200", "300"), "piet": ("2500", "100", "700")}
HIGHLIGHTS = {"olga": "Maria from Kharkiv needs a flat", "piet": "More arrivals in Gent"}


async def answered_round(bot) -> None:
    await register(bot, list(REGIONS))
    await bot.say("/rounds open monthly_regional; 2026-03-06 17:00; role:focal_point",
                  as_="alice", chat="coord")
    await bot.say("1", as_="alice", chat="coord")
    await deliver(bot)
    for name, region in REGIONS.items():
        for text in [region, "2026-03-01", *FIGURES[name], "/skip", "1", HIGHLIGHTS[name]]:
            await bot.say(text, as_=name)
        assert "recorded" in await bot.ask("1", as_=name)


async def test_checkins_answers_are_exported_then_erased_keeping_the_totals(checkin_bot):  # noqa: F811
    bot = checkin_bot
    await answered_round(bot)
    await bot.say("/away 2026-12-24 2027-01-02", as_="olga")
    section = (await my_data(bot, as_="olga"))["sections"]["checkins"]
    [assignment] = section["assignments"]
    assert assignment["form"] == "monthly_regional" and assignment["status"] == "submitted"
    assert HIGHLIGHTS["olga"] in assignment["answers"].values()
    assert section["absences"][0]["starts_on"] == "2026-12-24"
    await forget(bot, "olga")
    assert await rows(bot, select(CheckinAbsence)) == []
    answers = await rows(bot, select(CheckinAssignment.answers))
    assert all(HIGHLIGHTS["olga"] not in (a or {}).values() for a in answers)
    summary = (await bot.say("/results monthly_regional", as_="alice"))[0].plain()
    assert "total 3500" in summary  # olga's figures still count, anonymously
    assert "Maria" not in summary and "More arrivals in Gent" in summary
    csv_reply, _xlsx = await bot.say("/export monthly_regional", as_="alice")
    content = csv_reply.attachment.content.decode("utf-8-sig")
    assert "olga" not in content and "Maria" not in content


async def test_daily_retention_job_reduces_old_rounds_without_a_close(checkin_bot):  # noqa: F811
    bot = checkin_bot
    await answered_round(bot)
    await bot.services.checkins.run_due()
    bot.clock.set(datetime(2026, 3, 6, 17, 1, tzinfo=UTC))
    assert (await bot.services.checkins.run_due())["closed"] == 1
    days = bot.services.settings.checkins_retention_days
    bot.clock.advance(timedelta(days=days - 1))
    done = await bot.services.trust.retention.run_due()
    assert done["checkins.raw_answers"] == 0
    assert None not in await rows(bot, select(CheckinAssignment.answers))
    bot.clock.advance(timedelta(days=1))
    done = await bot.services.trust.retention.run_due()  # the daily job, not run_due
    assert done["checkins.raw_answers"] == 1
    assert await rows(bot, select(CheckinAssignment.answers)) == [None, None]
    [round_] = await rows(bot, select(CheckinRound))
    assert round_.reduced_at is not None and round_.aggregates["reduced"]
    reduced = (await bot.say("/results monthly_regional 1", as_="alice"))[0].plain()
    assert "total 3500" in reduced and "Gent" not in reduced
    assert (await bot.services.trust.retention.run_due())["checkins.raw_answers"] == 0


async def test_telegram_direct_chat_rows_are_exported_and_erased(bot):
    await bot.say("/whoami", as_="4242", platform="telegram")
    await bot.say("/whoami", as_="4242", platform="telegram", chat="-100777")
    async with bot.services.db.transaction() as session:
        await bot.services.people.mark_unreachable(session, ChatRef("telegram", "4242"),
                                                   bot.clock.now())
    data = await my_data(bot, as_="4242", platform="telegram")
    chats = data["sections"]["core"]["direct_chats"]
    assert [c["key"] for c in chats] == ["telegram:4242"]
    assert chats[0]["unreachable_since"] is None  # writing again made it reachable
    await forget(bot, "4242", platform="telegram")
    keys = await rows(bot, select(KnownChat.key))
    assert "telegram:4242" not in keys and "telegram:-100777" in keys  # the group stays
