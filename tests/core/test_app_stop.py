"""Stopping the app lets a scheduled job in flight end first (APScheduler's shutdown would
cancel it mid-transaction), but does not wait forever for one that never ends."""
import asyncio
from datetime import UTC, datetime

from apscheduler.triggers.date import DateTrigger
from sqlalchemy import text


async def _start_running(bot, job) -> None:
    scheduler = bot.services.scheduler
    scheduler.start()
    scheduler.add_job(job, DateTrigger(datetime.now(UTC)), id="test.in_flight")


async def test_a_job_in_flight_ends_before_stop_returns(bot):
    started, ended = asyncio.Event(), []

    async def job() -> None:
        started.set()
        await asyncio.sleep(0.3)
        async with bot.services.db.transaction() as session:
            await session.execute(text("SELECT 1"))
        ended.append(True)

    await _start_running(bot, job)
    await asyncio.wait_for(started.wait(), 5)
    assert len(bot.app.jobs_in_flight) == 1
    await bot.app.stop()
    assert ended == [True]
    assert len(bot.app.jobs_in_flight) == 0
    assert not bot.services.scheduler.running


async def test_a_job_that_does_not_end_is_cancelled_after_the_grace(bot):
    started, cancelled = asyncio.Event(), []

    async def job() -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    bot.app.job_grace_seconds = 0.2
    await _start_running(bot, job)
    await asyncio.wait_for(started.wait(), 5)
    loop = asyncio.get_running_loop()
    began = loop.time()
    await bot.app.stop()
    assert loop.time() - began < 5
    assert not bot.services.scheduler.running
    await asyncio.sleep(0.05)
    assert cancelled == [True]
