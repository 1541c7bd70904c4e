"""Stopping the scheduler without cutting a job short, through APScheduler's public API.

`AsyncIOScheduler.shutdown()` cancels the jobs still running, and a job cancelled in the
middle of a transaction can leave a database connection thread open, which keeps the
process from exiting. So the scheduler's own events tell which runs are in flight, and
`stop_gently` pauses it, waits (bounded) for them, then shuts it down."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from apscheduler.events import (EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED,
                                EVENT_JOB_SUBMITTED, JobExecutionEvent, JobSubmissionEvent)
from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger("coordbot.app")


class JobsInFlight:
    """The runs the scheduler has handed to its executor and not yet seen end. A submission
    may carry several run times (without coalescing); each ends with its own event."""

    def __init__(self, scheduler: AsyncIOScheduler) -> None:
        self._runs: set[tuple[str, datetime]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        scheduler.add_listener(self._submitted, EVENT_JOB_SUBMITTED)
        scheduler.add_listener(self._ended, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR
                               | EVENT_JOB_MISSED)

    def __len__(self) -> int:
        return len(self._runs)

    def _submitted(self, event: JobSubmissionEvent) -> None:
        self._runs.update((event.job_id, moment) for moment in event.scheduled_run_times)
        if self._runs:
            self._idle.clear()

    def _ended(self, event: JobExecutionEvent) -> None:
        self._runs.discard((event.job_id, event.scheduled_run_time))
        if not self._runs:
            self._idle.set()

    async def ended(self) -> None:
        """Returns once no run is in flight."""
        await self._idle.wait()


async def stop_gently(scheduler: AsyncIOScheduler, in_flight: JobsInFlight,
                      grace_seconds: float) -> None:
    """No new run starts; those in flight get `grace_seconds` to end; then the scheduler
    stops (cancelling whatever still runs)."""
    if not scheduler.running:
        return
    scheduler.pause()
    try:
        async with asyncio.timeout(grace_seconds):
            await in_flight.ended()
    except TimeoutError:
        log.warning("scheduled jobs still running at shutdown", extra={"fields": {
            "jobs": len(in_flight)}})
    scheduler.shutdown(wait=False)


@dataclass(frozen=True)
class Job:
    """A recurring job a domain exposes; bot/bootstrap.py schedules it at start-up. The id is
    stable, so a restart replaces the job instead of adding a second one."""

    id: str
    run: Callable[[], Awaitable[object]]
    trigger: str  # "cron" or "interval"
    when: dict[str, int]  # the trigger's fields: {"hour": 3, "minute": 17}, {"minutes": 1}


def schedule(scheduler: AsyncIOScheduler, jobs: list[Job]) -> None:
    for job in jobs:
        # One run at a time, and a run missed while the bot was down happens once.
        scheduler.add_job(job.run, job.trigger, id=job.id, replace_existing=True,
                          max_instances=1, coalesce=True, **job.when)
