"""Schedules across the daylight-saving changes of Europe/Brussels (29 March and 25 October
2026): a 10:00 meeting stays at 10:00 local time, and a time inside the changed hour is sent
exactly once per day."""
from datetime import datetime, UTC
from zoneinfo import ZoneInfo

import pytest

from bot.clock import FakeClock
from tests.harness import make_bot
from tests.harness import RecordingTransport

BRUSSELS = ZoneInfo("Europe/Brussels")


@pytest.fixture
async def bot_at(tmp_path, database_url):
    bots = []

    async def make(start: datetime):
        bot = await make_bot(tmp_path / str(len(bots)), database_url, clock=FakeClock(start),
                             admins=["console:ann"])
        bot.inbox = RecordingTransport()
        bot.services.transports.add(bot.inbox)
        bots.append(bot)
        return bot

    yield make
    for bot in bots:
        await bot.close()


async def deliveries(bot, until: datetime) -> list[datetime]:
    """Moves the clock to each due moment in turn, as the scheduler would; returns when
    something was delivered."""
    delivered = []
    for _ in range(50):
        due = await bot.services.reminders.next_due()
        if due is None or due > until:
            break
        bot.clock.set(due)
        before = len(bot.inbox.sent)
        await bot.services.reminders.run_due()
        delivered += [due] * (len(bot.inbox.sent) - before)
    return delivered


async def confirm(bot, command: str) -> None:
    await bot.say(command, as_="ann")
    assert "Saved" in await bot.ask("1", as_="ann")


@pytest.mark.parametrize("start, end, utc_hours", [
    (datetime(2026, 3, 26, 12, tzinfo=UTC), datetime(2026, 3, 31, 12, tzinfo=UTC),
     [9, 9, 8, 8, 8]),   # 27, 28 March in winter time (UTC+1), 29-31 in summer time (UTC+2)
    (datetime(2026, 10, 22, 12, tzinfo=UTC), datetime(2026, 10, 27, 12, tzinfo=UTC),
     [8, 8, 9, 9, 9]),   # 23, 24 October in summer time, 25-27 in winter time
])
async def test_daily_meeting_stays_at_ten_local_across_the_change(bot_at, start, end, utc_hours):
    bot = await bot_at(start)
    await confirm(bot, "/meeting every day at 10:00; Daily call")
    sent = await deliveries(bot, end)
    assert [moment.hour for moment in sent] == utc_hours
    assert {moment.astimezone(BRUSSELS).strftime("%H:%M") for moment in sent} == {"10:00"}
    assert all("(late" not in text for text in bot.inbox.texts())


async def test_time_in_the_skipped_spring_hour_is_sent_once_that_day(bot_at):
    bot = await bot_at(datetime(2026, 3, 27, 12, tzinfo=UTC))
    await confirm(bot, "/remind every day at 2:30; Night shift handover")
    sent = await deliveries(bot, datetime(2026, 3, 30, 12, tzinfo=UTC))
    days = [moment.astimezone(BRUSSELS).date().isoformat() for moment in sent]
    assert days == ["2026-03-28", "2026-03-29", "2026-03-30"]
    # 02:30 does not exist on 29 March: it is sent when the clocks jump, at 03:30 summer time.
    assert sent[1] == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


async def test_time_in_the_repeated_autumn_hour_is_sent_once_that_day(bot_at):
    bot = await bot_at(datetime(2026, 10, 23, 12, tzinfo=UTC))
    await confirm(bot, "/remind every day at 2:30; Night shift handover")
    sent = await deliveries(bot, datetime(2026, 10, 26, 12, tzinfo=UTC))
    days = [moment.astimezone(BRUSSELS).date().isoformat() for moment in sent]
    assert days == ["2026-10-24", "2026-10-25", "2026-10-26"]
    assert sent[1] == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # the first 02:30


async def test_monthly_deadline_with_lead_keeps_local_time_over_the_change(bot_at):
    bot = await bot_at(datetime(2026, 3, 20, 12, tzinfo=UTC))
    await confirm(bot, "/deadline monthly on the 30th at 17:00, 1 day before; Figures due")
    sent = await deliveries(bot, datetime(2026, 3, 31, 12, tzinfo=UTC))
    assert [m.astimezone(BRUSSELS).strftime("%d %H:%M") for m in sent] == ["29 17:00", "30 17:00"]
    assert bot.inbox.texts()[0].startswith(
        "Figures due\nComing up in 1 day: Mon 30 Mar 2026, 17:00")
