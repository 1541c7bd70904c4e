"""The one time parser in conversations, in French and Dutch, as coordinators and focal points
write: a weekly check-in round with a deadline in words, a reminder in 30 seconds, an absence
in words, and an unreadable word asked back instead of being dropped. The clock is Wednesday
2 December 2026, 10:00 in Brussels (when the issue was seen)."""
from __future__ import annotations

from datetime import datetime, timedelta, UTC

import pytest
from sqlalchemy import select

from bot.checkins.models import CheckinAbsence, CheckinRound
from bot.reminders.models import Schedule
from tests.checkins.conftest import checkin_bot, deliver, register  # noqa: F401
from tests.harness import RecordingTransport

WEDNESDAY = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


async def rounds(bot) -> list[CheckinRound]:
    async with bot.services.db.session() as session:
        return list(await session.scalars(select(CheckinRound)))


@pytest.mark.parametrize("lang, deadline, shown, utc", [
    ("fr-BE", "vendredi 12h", "04/12/2026 12:00", datetime(2026, 12, 4, 11, 0)),
    ("nl-BE", "vrijdag 11 december om 17u", "11/12/2026 17:00", datetime(2026, 12, 11, 16, 0)),
])
async def test_a_coordinator_opens_a_weekly_round_with_a_deadline_in_words(
        checkin_bot, lang, deadline, shown, utc):  # noqa: F811
    bot = checkin_bot
    bot.clock.set(WEDNESDAY)
    await register(bot, ["hana"])
    preview = await bot.ask(f"/rounds open weekly_local; {deadline}; role:focal_point",
                            as_="alice", chat="coord", lang=lang)
    assert shown in preview
    opened = await bot.ask("1", as_="alice", chat="coord", lang=lang)
    assert "weekly_local" in opened
    [round_] = await rounds(bot)
    assert round_.deadline == utc.replace(tzinfo=UTC)
    assert round_.status == "open"


@pytest.mark.parametrize("lang, deadline, quoted, closest", [
    ("fr-BE", "vendredii 12h", "« vendredii »", "« vendredi »"),
    ("nl-BE", "vrijdagg om 17u", '"vrijdagg"', '"vrijdag"'),
])
async def test_a_word_the_bot_cannot_read_in_a_deadline_is_asked_back(
        checkin_bot, lang, deadline, quoted, closest):  # noqa: F811
    bot = checkin_bot
    bot.clock.set(WEDNESDAY)
    await register(bot, ["hana"])
    [answer] = await bot.say(f"/rounds open weekly_local; {deadline}; role:focal_point",
                             as_="alice", chat="coord", lang=lang)
    assert quoted in answer.plain() and closest in answer.plain()
    assert answer.choices == []  # nothing to confirm
    assert await rounds(bot) == []


async def test_round_rules_name_the_deadline_they_read(checkin_bot):  # noqa: F811
    bot = checkin_bot
    bot.clock.set(WEDNESDAY)
    await register(bot, ["hana"])
    answer = await bot.ask("/rounds open weekly_local; 5/3 17u; role:focal_point",
                           as_="alice", chat="coord", lang="nl-BE")
    assert "05/03/2027 17:00" in answer  # 5 March is next March, and too far for a round
    assert await rounds(bot) == []


@pytest.mark.parametrize("lang, command, confirm, text", [
    ("fr-BE", "/remind dans 30 secondes; appeler le CPAS", "oui", "appeler le CPAS"),
    ("nl-BE", "/remind over 30 seconden; het OCMW bellen", "ja", "het OCMW bellen"),
])
async def test_a_reminder_in_30_seconds_comes_30_seconds_after_it_is_confirmed(
        checkin_bot, lang, command, confirm, text):  # noqa: F811
    bot = checkin_bot
    inbox = RecordingTransport()
    bot.services.transports.add(inbox)
    bot.clock.set(WEDNESDAY)
    preview = await bot.say(command, as_="bob", lang=lang)
    assert preview[0].choices and "10:00" in preview[0].plain()
    bot.clock.advance(timedelta(seconds=10))  # reading the preview takes a moment
    assert "R1" in await bot.ask(confirm, as_="bob", lang=lang)
    async with bot.services.db.session() as session:
        [schedule] = list(await session.scalars(select(Schedule)))
    assert schedule.start_local == "2026-12-02T10:00:40"
    bot.clock.advance(timedelta(seconds=29))
    await bot.services.reminders.run_due()
    await deliver(bot)
    assert inbox.to("bob") == []
    bot.clock.advance(timedelta(seconds=1))
    await bot.services.reminders.run_due()
    await deliver(bot)
    assert inbox.to("bob") == [text]


@pytest.mark.parametrize("lang, command", [
    ("fr-BE", "/away du 24 décembre au 2 janvier"),
    ("nl-BE", "/away van 24/12 tot 2 januari"),
])
async def test_an_absence_in_words_pauses_nudges_over_new_year(
        checkin_bot, lang, command):  # noqa: F811
    bot = checkin_bot
    bot.clock.set(WEDNESDAY)
    await register(bot, ["ivo"])
    answer = await bot.ask(command, as_="ivo", lang=lang)
    assert "2026-12-24" in answer and "2027-01-02" in answer
    async with bot.services.db.session() as session:
        [absence] = list(await session.scalars(select(CheckinAbsence)))
    assert (absence.starts_on.isoformat(), absence.ends_on.isoformat()) == (
        "2026-12-24", "2027-01-02")
