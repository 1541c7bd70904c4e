"""The composition root: builds every part of the application from settings, and accepts
fakes (clock, transports) for tests. Nothing is built at import time anywhere else.

`build_app` makes the core parts, the `Services` bag (bot/services.py), then each domain
service in order with one `_wire_<domain>` function: it constructs the service from typed
parts and registers the service's jobs, start-up hooks, privacy exporters and retention
tasks. Domain packages register nothing themselves."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import date, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession

from bot.checkins.privacy import register as register_checkins_privacy
from bot.checkins.service import CheckinsService
from bot.clock import Clock, clock_from_settings
from bot.config import Settings
from bot.conversations import Conversations
from bot.db import Database
from bot.devices import DeviceVerifications
from bot.devices.notices import AdminNotices
from bot.directory.campaign import JOB_ID as CAMPAIGN_JOB_ID
from bot.directory.campaign import Campaign
from bot.directory.changes import DIGEST_HOUR, DIGEST_JOB_ID, ChangeLog
from bot.directory.privacy import register as register_directory_privacy
from bot.directory.service import DirectoryService
from bot.directory.verification import JOB_ID as VERIFICATION_JOB_ID
from bot.directory.verification import Verification
from bot.handlers import FEATURES
from bot.i18n import Catalogues
from bot.leader import LeaderLoop, Lease
from bot.meetings.privacy import register as register_meetings_privacy
from bot.meetings.service import MeetingsService
from bot.messages import IncomingMessage, Reply
from bot.outbox import Outbox
from bot.people import People
from bot.reminders.broadcasts import Broadcasts
from bot.reminders.delivery import Delivery
from bot.reminders.privacy import register as register_reminders_privacy
from bot.reminders.service import RemindersService
from bot.router import Router
from bot.scheduling import Job, JobsInFlight, schedule, stop_gently
from bot.services import Services
from bot.transports.base import Receiver, Transport, Transports
from bot.trust.service import TrustService
from bot.web.access import WebAccess, erase_moved, erase_personal, export_personal

__all__ = ["App", "Services", "build_app"]  # Services: re-exported for older imports

log = logging.getLogger("coordbot.app")


class App:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.leaders: list[tuple[LeaderLoop, asyncio.Task[None]]] = []
        self.jobs_in_flight = JobsInFlight(services.scheduler)
        # How long a job running at shutdown may take to end before it is cancelled.
        self.job_grace_seconds = 15.0

    @property
    def router(self) -> Router:
        return self.services.router

    async def handle(self, message: IncomingMessage) -> list[Reply]:
        return await self.router.route(self.services, message)

    def receiver_for(self, transport: Transport) -> Receiver:
        """The callback a transport hands each incoming message to; replies go back through it."""

        async def receive(message: IncomingMessage) -> None:
            for reply in await self.handle(message):
                result = await transport.send(message.chat, reply)
                if not result.ok:
                    log.warning("reply not delivered", extra={"fields": {
                        "platform": transport.platform, "error": result.error}})

        return receive

    async def start(self, *, migrate: bool = True, start_scheduler: bool = True) -> None:
        from bot.locks import setup_lock
        async with setup_lock(self.services.db):
            if migrate:
                from bot.migrations import upgrade
                await upgrade(self.services.db)
            for hook in self.services.startup_hooks:
                await hook(self.services)
        if start_scheduler:
            schedule(self.services.scheduler, [Job(
                "outbox.deliver", self.services.outbox.deliver_pending, "interval",
                {"seconds": 5})])
            self.services.scheduler.start()

    async def serve(self, transports: list[Transport]) -> None:
        for transport in transports:
            self.services.transports.add(transport)
        for transport in transports:
            await transport.start(self.receiver_for(transport))

    async def lead(self, lease_name: str, build: Callable[[], Transport], *,
                   retry_seconds: float | None = None) -> LeaderLoop:
        """Runs the transport `build()` makes only while this instance holds the lease: the
        one poller of a platform account among several instances. A first attempt is made
        now, so that a transport failing to start is told at once; a standby keeps trying."""
        running: list[Transport] = []

        async def start() -> None:
            transport = build()
            self.services.transports.add(transport)
            running.append(transport)
            await transport.start(self.receiver_for(transport))

        async def stop() -> None:
            while running:
                transport = running.pop()
                self.services.transports.remove(transport.platform)
                await transport.stop()

        retry = retry_seconds or self.services.settings.leader_retry_seconds
        loop = LeaderLoop(Lease(self.services.db, lease_name), start, stop,
                          retry_seconds=retry, check_seconds=retry)
        await loop.begin()
        self.leaders.append((loop, asyncio.create_task(loop.run(), name=f"lead {lease_name}")))
        return loop

    async def _stop_leaders(self) -> None:
        for loop, _task in self.leaders:
            await loop.finish()
        if self.leaders:
            await asyncio.wait([task for _loop, task in self.leaders], timeout=30)
        self.leaders.clear()

    async def stop(self) -> None:
        await self._stop_leaders()
        await stop_gently(self.services.scheduler, self.jobs_in_flight, self.job_grace_seconds)
        for hook in reversed(self.services.shutdown_hooks):
            await hook(self.services)
        for transport in self.services.transports:
            await transport.stop()
        try:
            # A connection a cancelled task left half-closed must not keep the process alive.
            await asyncio.wait_for(self.services.db.dispose(), timeout=10)
        except TimeoutError:
            log.warning("database connections did not close in time")


def _scheduling(jobs: Callable[[], list[Job]]) -> Callable[[Services], Awaitable[None]]:
    """A start-up hook that schedules the jobs a domain exposes."""

    async def start(services: Services) -> None:
        schedule(services.scheduler, jobs())

    return start


# ---- trust ----
def _wire_trust(services: Services) -> TrustService:
    trust = TrustService(services.db, services.clock, services.people, services.conversations,
                         services.settings)
    services.startup_hooks.append(_scheduling(trust.jobs))
    return trust


# ---- web ----
def _wire_web(services: Services) -> WebAccess:
    access = WebAccess(services.clock, services.settings.web_session_hours)
    services.trust.privacy.register("web", export_personal, erase_personal, erase_moved)
    return access


def build_app(settings: Settings, *, clock: Clock | None = None,
              database: Database | None = None) -> App:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    clock = clock or clock_from_settings(settings)
    db = database or Database(settings.effective_database_url)
    transports = Transports()
    services = Services(
        settings=settings,
        db=db,
        catalogues=Catalogues(settings.locales_dir),
        clock=clock,
        people=People(settings.admins, settings.timezone, clock),
        conversations=Conversations(clock, timedelta(minutes=settings.preview_ttl_minutes)),
        transports=transports,
        outbox=Outbox(db, transports, clock, claim_seconds=settings.outbox_claim_seconds),
        scheduler=AsyncIOScheduler(timezone="UTC"),
        router=Router(FEATURES),
    )
    # In this order: a domain may use the services wired before it.
    services.trust = _wire_trust(services)
    services.directory = _wire_directory(services)
    services.reminders = _wire_reminders(services)
    services.checkins = _wire_checkins(services)
    services.web = _wire_web(services)
    services.meetings = _wire_meetings(services)
    services.devices = _wire_devices(services)
    return App(services)


# ---- checkins ----
def _wire_checkins(services: Services) -> CheckinsService:
    """The check-in service; at start-up it loads the shipped forms and schedules its work
    every minute; its personal data and raw-answer retention go to trust."""
    service = CheckinsService(
        db=services.db, outbox=services.outbox, clock=services.clock,
        settings=services.settings, catalogues=services.catalogues, people=services.people,
        conversations=services.conversations, directory=services.directory)

    async def start(_services: Services) -> None:
        await service.on_start(services.settings.checkins_forms_dir)
        services.scheduler.add_job(service.run_due, "interval", minutes=1,
                                   id="checkins.run_due", replace_existing=True,
                                   max_instances=1, coalesce=True)

    services.startup_hooks.append(start)
    register_checkins_privacy(services.trust.privacy, service)
    services.trust.retention.register("checkins.raw_answers", service.purge_raw_answers)
    return service


# ---- reminders ----
def _wire_reminders(services: Services) -> RemindersService:
    settings, db, clock, outbox = (services.settings, services.db, services.clock,
                                   services.outbox)
    catalogues, directory = services.catalogues, services.directory
    delivery = Delivery(settings=settings, db=db, clock=clock, outbox=outbox,
                        catalogues=catalogues, conversations=services.conversations,
                        directory=directory)
    broadcasts = Broadcasts(settings=settings, db=db, clock=clock, outbox=outbox,
                            catalogues=catalogues, directory=directory)
    reminders = RemindersService(settings=settings, db=db, clock=clock, outbox=outbox,
                                 scheduler=services.scheduler, delivery=delivery,
                                 broadcasts=broadcasts, directory=directory)
    services.startup_hooks.append(reminders.start_jobs)
    register_reminders_privacy(services.trust.privacy, reminders.broadcasts)
    # The date job is re-placed after every change; APScheduler would log each at INFO.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    return reminders


# ---- meetings ----
def _wire_meetings(services: Services) -> MeetingsService:
    meetings = MeetingsService(
        settings=services.settings, db=services.db, clock=services.clock,
        outbox=services.outbox, catalogues=services.catalogues,
        conversations=services.conversations, reminders=services.reminders,
        scheduler=services.scheduler, directory=services.directory)
    services.startup_hooks.append(meetings.start_jobs)
    # A meeting's reminder carries its agenda and open actions; /calendar its actions.
    services.reminders.add_reminder_lines(meetings.reminder_lines)
    services.reminders.add_calendar_items(meetings.calendar_todos)
    register_meetings_privacy(services.trust.privacy)
    return meetings


# ---- directory ----
def _wire_directory(services: Services) -> DirectoryService:
    """The directory and its parts; at start-up the bundled data is loaded into an empty
    database and the index built, then the re-verification, digest and campaign jobs run."""
    settings, db, clock = services.settings, services.db, services.clock
    outbox, catalogues = services.outbox, services.catalogues
    directory = DirectoryService(settings.bundled_data_dir, clock)
    directory.verification = Verification(
        directory, conversations=services.conversations, db=db, clock=clock, outbox=outbox,
        catalogues=catalogues, settings=settings)
    directory.changes = ChangeLog(directory, db=db, clock=clock, outbox=outbox,
                                  catalogues=catalogues, settings=settings)

    async def paused_on(session: AsyncSession, user_id: int, day: date) -> bool:
        # The check-ins' calendar (public holidays, /away days); check-ins are wired later.
        checkins = services.checkins
        absences = [(a.starts_on, a.ends_on) for a in await checkins.absences_of(session, user_id)]
        return bool(checkins.paused_on(day, absences))

    directory.campaign = Campaign(directory, directory.verification, paused_on=paused_on,
                                  db=db, clock=clock, outbox=outbox, catalogues=catalogues,
                                  settings=settings)

    async def start(services_: Services) -> None:
        await directory.on_start(db, load_bundled_data=settings.load_bundled_data)
        scheduler = services_.scheduler
        every = {"replace_existing": True, "max_instances": 1, "coalesce": True}
        scheduler.add_job(directory.verification.run_due, "interval", hours=1,
                          id=VERIFICATION_JOB_ID, **every)
        scheduler.add_job(directory.changes.run_digest, "cron", hour=DIGEST_HOUR,
                          timezone=settings.timezone, id=DIGEST_JOB_ID, **every)
        scheduler.add_job(directory.campaign.run_due, "interval", hours=1,
                          id=CAMPAIGN_JOB_ID, **every)

    services.startup_hooks.append(start)
    register_directory_privacy(services.trust.privacy, directory)
    return directory


# ---- devices ----
def _wire_devices(services: Services) -> DeviceVerifications:
    """Matrix device verifications and admins' approvals, shared by the Matrix transport and
    the `!verify-device` command."""
    notices = AdminNotices(services.db, services.outbox, services.catalogues,
                           services.settings.default_locale)
    return DeviceVerifications(services.db, services.people, services.clock,
                               on_waiting=notices.verification_waiting)
