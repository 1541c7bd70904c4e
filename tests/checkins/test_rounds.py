"""Round life cycle details: scheduled opening, holidays and absences pausing nudges, results
by region with text answers, export escaping, retention, forms uploaded in the chat."""
from __future__ import annotations

import csv
import io
from datetime import datetime, UTC
from pathlib import Path

from sqlalchemy import select

from bot.checkins.models import CheckinAssignment
from bot.messages import Attachment
from tests.checkins.conftest import deliver, register

FORMS = Path(__file__).resolve().parents[2] / "data" / "forms"


def brussels(month, day, hour, minute=0) -> datetime:
    offset = 1 if month < 3 or (month == 3 and day < 29) else 2  # 2026 summer time from 29/3
    return datetime(2026, month, day, hour - offset, minute, tzinfo=UTC)


async def open_round(bot, command: str) -> str:
    await bot.say(command, as_="alice", chat="coord")
    answer = await bot.ask("1", as_="alice", chat="coord")
    await deliver(bot)
    return answer


async def test_holidays_and_absences_pause_nudges(checkin_bot):
    bot = checkin_bot
    bot.clock.set(brussels(4, 2, 9))
    await register(bot, ["hana", "ivo", "jan"])
    await bot.say("/away 2026-04-06 2026-04-08", as_="ivo")
    # Halfway between Thursday 2 April 9:00 and Friday 10 April 17:00 is Easter Monday 13:00.
    await open_round(bot, "/rounds open weekly_local; 2026-04-10 17:00; role:focal_point")
    bot.transport.clear()
    await bot.say("/checkin", as_="jan")
    for text in ["1", "0", "0", "1", "/skip", "/skip", "1"]:
        await bot.say(text, as_="jan")

    bot.clock.set(brussels(4, 6, 13, 30))
    assert (await bot.services.checkins.run_due())["nudged"] == 0  # Easter Monday
    bot.clock.set(brussels(4, 7, 13, 1))
    await bot.services.checkins.run_due()
    await deliver(bot)
    assert bot.transport.chats() == {"hana"}  # ivo is away, jan answered
    bot.transport.clear()
    bot.clock.set(brussels(4, 9, 13, 1))
    await bot.services.checkins.run_due()
    await deliver(bot)
    assert bot.transport.chats() == {"ivo"}  # back from absence: the postponed nudge
    bot.transport.clear()
    bot.clock.set(brussels(4, 9, 17, 1))
    await bot.services.checkins.run_due()
    await deliver(bot)
    assert bot.transport.chats() == {"hana", "ivo"}  # the day-before nudge


async def test_away_command(checkin_bot):
    bot = checkin_bot
    await register(bot, ["kim"])
    assert "No absence declared" in await bot.ask("/away", as_="kim")
    assert "before the start" in await bot.ask("/away 2026-12-24 2026-12-20", as_="kim")
    assert "already over" in await bot.ask("/away 2026-01-01 2026-01-02", as_="kim")
    # an unreadable word is quoted back (dates in words are read: "/away demain" is one day)
    assert 'could not read "whenever"' in await bot.ask("/away 24/12 whenever", as_="kim")
    assert "paused from 2026-12-24 to 2027-01-02" in await bot.ask(
        "/away 24/12/2026 02/01/2027", as_="kim")
    assert "from 2026-12-24 to 2027-01-02" in await bot.ask("/away", as_="kim")
    assert "removed: 1" in await bot.ask("/away clear", as_="kim")
    assert "not available to you" in await bot.ask("/away 2026-12-24 2026-12-25", as_="guest1")


async def test_scheduled_round_opens_later_and_only_for_its_audience(checkin_bot):
    bot = checkin_bot
    await register(bot, ["lea", "max"])
    await bot.ask("/role lea focal_point", as_="alice")
    bot.services.clock.set(brussels(3, 2, 10))
    answer = await open_round(
        bot, "/rounds open monthly_regional; 2026-03-13 12:00; @lea; 2026-03-03 09:00")
    assert "scheduled for 03/03/2026 09:00" in answer
    assert bot.transport.sent == []
    assert "scheduled" in await bot.ask("/rounds", as_="alice")
    bot.clock.set(brussels(3, 3, 9, 1))
    assert (await bot.services.checkins.run_due())["opened"] == 1
    await deliver(bot)
    assert bot.transport.chats() == {"lea"}


async def test_refusals_and_bad_arguments(checkin_bot):
    bot = checkin_bot
    await register(bot, ["nina"])
    assert "not available to you" in await bot.ask("/results weekly_local", as_="nina")
    assert "not available to you" in await bot.ask("/rounds", as_="nina")
    assert "Unknown form" in await bot.ask("/results nope", as_="alice")
    assert "No round" in await bot.ask("/results weekly_local", as_="alice")
    assert "Usage" in await bot.ask("/rounds open weekly_local", as_="alice")
    assert "deadline" in await bot.ask("/rounds open weekly_local; whenever pigs fly; all",
                                       as_="alice")
    assert "do not know" in await bot.ask("/rounds open weekly_local; 2026-03-06; @nobody",
                                          as_="alice")
    assert "Cancelled" in await bot.ask(
        "/rounds open weekly_local; 2026-03-06; all", as_="alice") + await bot.ask(
            "2", as_="alice")
    assert "group" in await bot.ask("/checkin", as_="nina", chat="coord")


async def test_monthly_results_by_region_texts_escaping_and_retention(checkin_bot):
    bot = checkin_bot
    people = {"olga": "1", "piet": "2", "quentin": "3", "rita": "3"}
    await register(bot, list(people))
    await open_round(bot, "/rounds open monthly_regional; 2026-03-06 17:00; role:focal_point")
    figures = {"olga": (1000, 200, 300), "piet": (2500, 100, 700), "quentin": (800, 50, 120),
               "rita": (400, 40, 60)}
    highlights = {"olga": "=HYPERLINK(\"http://evil\")", "piet": "More arrivals in Gent",
                  "quentin": "/skip", "rita": "@admin check Namur"}
    for name, region in people.items():
        residents, collective, income = figures[name]
        for text in [region, "2026-03-01", str(residents), str(collective), str(income),
                     "/skip", "1", highlights[name]]:
            await bot.say(text, as_=name)
        assert "recorded" in await bot.ask("1", as_=name)
    summary = (await bot.say("/results monthly_regional", as_="alice"))[0].plain()
    assert "Responses: 4 of 4 (100%), of which 0 late." in summary
    assert "By region: Brussels-Capital 1/1; Flanders 1/1; Wallonia 2/2" in summary
    assert "total 4700 (4 answers" in summary
    assert "Brussels-Capital 1000; Flanders 2500; Wallonia 1200" in summary
    assert "[Flanders] More arrivals in Gent" in summary
    assert "Everyone answered." in summary

    csv_reply, _xlsx = await bot.say("/export monthly_regional", as_="alice")
    rows = list(csv.reader(io.StringIO(csv_reply.attachment.content.decode("utf-8-sig"))))
    column = rows[0].index("highlights")
    cells = {row[1]: row[column] for row in rows[2:]}
    assert cells["olga"] == "'=HYPERLINK(\"http://evil\")"
    assert cells["rita"] == "'@admin check Namur"
    assert cells["piet"] == "More arrivals in Gent"

    bot.clock.set(datetime(2027, 3, 8, tzinfo=UTC))
    done = await bot.services.checkins.run_due()
    assert done["closed"] == 1 and done["reduced"] == 1
    async with bot.services.db.session() as session:
        assert list(await session.scalars(select(CheckinAssignment.answers))) == [None] * 4
    reduced = (await bot.say("/results monthly_regional 1", as_="alice"))[0].plain()
    assert "total 4700" in reduced and "Brussels-Capital 1000; Flanders 2500" in reduced
    assert "More arrivals" not in reduced
    note = (await bot.say("/export monthly_regional 1", as_="alice"))[0].plain()
    assert "reduced to totals" in note


async def test_forms_added_from_a_chat_attachment(checkin_bot):
    bot = checkin_bot
    content = (FORMS / "monthly_regional.yaml").read_bytes().replace(
        b"form_id: monthly_regional", b"form_id: monthly_copy")
    answer = await bot.ask("/forms add", as_="alice",
                           attachment=Attachment("copy.yaml", content, "application/yaml"))
    assert "Form monthly_copy added." in answer and "Which region do you report for?" in answer
    again = await bot.ask("/forms add", as_="alice", attachment=Attachment("copy.yaml", content))
    assert "Form monthly_copy updated" in again
    assert "monthly_copy" in await bot.ask("/forms", as_="alice")
    bad = await bot.ask("/forms add", as_="alice",
                        attachment=Attachment("bad.yaml", b"settings: {}\n"))
    assert "cannot use this form" in bad and "form_id" in bad
    assert "Attach an XLSForm" in await bot.ask("/forms add", as_="alice")


async def test_refusals_are_answered_and_change_nothing(checkin_bot):
    bot = checkin_bot
    await register(bot, ["hana"])
    assert "direct chat with me, not in a group" in await bot.ask("/checkin", as_="hana",
                                                                 chat="coord")
    assert "Unknown form nope" in await bot.ask("/results nope", as_="alice", chat="coord")
    assert "No round of weekly_local has been opened yet" in await bot.ask(
        "/results weekly_local", as_="alice", chat="coord")
    assert "must be after the opening time" in await bot.ask(
        "/rounds open weekly_local; tomorrow 10:00; role:focal_point; in 3 days",
        as_="alice", chat="coord")
    await open_round(bot, "/rounds open weekly_local; in 3 days; role:focal_point")
    assert "is closed" in await bot.ask("/rounds close weekly_local", as_="alice", chat="coord")
    assert "Round 1 of weekly_local is not open" in await bot.ask(
        "/rounds close weekly_local 1", as_="alice", chat="coord")
    assert "0/1 answered" in await bot.ask("/rounds", as_="alice", chat="coord")
