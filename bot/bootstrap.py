"""The composition root: builds every part of the application from settings, and accepts
fakes (clock, transports) for tests. Nothing is built at import time anywhere else."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession

from bot.checkins.privacy import register as register_checkins_privacy
from bot.checkins.service import CheckinsService
from bot.clock import clock_from_settings
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
from bot.leader import LeaderLoop, Lease
from bot.meetings.privacy import register as register_meetings_privacy
from bot.meetings.service import MeetingsService
from bot.i18n import Catalogues, _, ngettext, normalize_locale
from bot.messages import ChatRef, IncomingMessage, Reply
from bot.outbox import Outbox
from bot.people import People
from bot.reminders.broadcasts import Broadcasts
from bot.reminders.delivery import Delivery
from bot.reminders.privacy import register as register_reminders_privacy
from bot.reminders.service import RemindersService
from bot.router import Router
from bot.transports.base import Transport, Transports
from bot.trust.service import build as build_trust
from bot.web.access import build as build_web

log = logging.getLogger("coordbot.app")


@dataclass
class Services:
    """Everything a handler may use, reached as `ctx.services.<name>`."""

    settings: Settings
    db: Database
    catalogues: Catalogues
    clock: Any
    people: People
    conversations: Conversations
    transports: Transports
    outbox: Outbox = None  # type: ignore[assignment]
    # Jobs are derived from the database at start-up (stable ids); no persistent job store.
    scheduler: Any = None
    router: Router = None  # type: ignore[assignment]
    # Domain services, set by build_app when their feature exists.
    directory: Any = None
    reminders: Any = None
    checkins: Any = None
    meetings: Any = None
    trust: Any = None
    web: Any = None
    devices: Any = None
    startup_hooks: list[Any] = field(default_factory=list)
    shutdown_hooks: list[Any] = field(default_factory=list)


class App:
    def __init__(self, services: Services):
        self.services = services
        self.leaders: list[tuple[LeaderLoop, asyncio.Task]] = []

    @property
    def router(self) -> Router:
        return self.services.router

    async def handle(self, message: IncomingMessage) -> list[Reply]:
        return await self.router.route(self.services, message)

    def receiver_for(self, transport: Transport):
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
            self.services.scheduler.add_job(
                self.services.outbox.deliver_pending, "interval", seconds=5,
                id="outbox.deliver", replace_existing=True, max_instances=1, coalesce=True)
            self.services.scheduler.start()

    async def _stop_scheduler(self, grace_seconds: float = 15.0) -> None:
        """Lets jobs in flight finish before stopping: APScheduler's shutdown cancels them,
        and a job cancelled mid-transaction can leave a database connection thread open,
        which keeps the process from exiting."""
        scheduler = self.services.scheduler
        if not scheduler.running:
            return
        scheduler.pause()
        executor = scheduler._lookup_executor("default")  # noqa: SLF001 - no public API for this
        in_flight = [f for f in getattr(executor, "_pending_futures", ()) if not f.done()]
        if in_flight:
            await asyncio.wait(in_flight, timeout=grace_seconds)
        scheduler.shutdown(wait=False)

    async def console_welcome(self, chat: ChatRef, language: str | None, *,
                              greet: bool) -> list[str]:
        """The lines a console prints as it opens: a greeting on a terminal, and how many
        messages were waiting for this person (delivered right after)."""
        services = self.services
        async with services.db.session() as session:
            identity = await services.people.identity(session, chat.platform, chat.chat_id)
            locale = (identity.user.locale if identity else None) or normalize_locale(language) \
                or services.settings.default_locale
        waiting = await services.outbox.waiting(chat.key())
        lines = []
        with services.catalogues.use(locale):
            if greet:
                lines.append(_("Hello {name}. Ask a question such as “logement Liège”, or type "
                               "/help to see what you can do. Ctrl-D ends.").format(
                                   name=chat.chat_id))
            if waiting:
                lines.append(ngettext("{count} message was waiting for you:",
                                      "{count} messages were waiting for you:",
                                      waiting).format(count=waiting))
        return lines

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
        await self._stop_scheduler()
        for hook in reversed(self.services.shutdown_hooks):
            await hook(self.services)
        for transport in self.services.transports:
            await transport.stop()
        try:
            # A connection a cancelled task left half-closed must not keep the process alive.
            await asyncio.wait_for(self.services.db.dispose(), timeout=10)
        except asyncio.TimeoutError:
            log.warning("database connections did not close in time")


def build_app(settings: Settings, *, clock=None, database: Database | None = None) -> App:
    from bot.handlers import FEATURES

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    clock = clock or clock_from_settings(settings)
    services = Services(
        settings=settings,
        db=database or Database(settings.effective_database_url),
        catalogues=Catalogues(settings.locales_dir),
        clock=clock,
        people=People(settings.admins, settings.timezone, clock),
        conversations=Conversations(clock, timedelta(minutes=settings.preview_ttl_minutes)),
        transports=Transports(),
    )
    services.outbox = Outbox(services.db, services.transports, clock,
                             claim_seconds=settings.outbox_claim_seconds)
    services.scheduler = AsyncIOScheduler(timezone="UTC")
    services.router = Router(FEATURES)
    services.trust = build_trust(services)
    services.directory = _wire_directory(services)
    services.reminders = _wire_reminders(services)
    services.checkins = _wire_checkins(services)
    services.web = build_web(services)
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
    if services.trust is not None:
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
    if services.trust is not None:
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
    if services.trust is not None:
        register_meetings_privacy(services.trust.privacy)
    return meetings


# ---- directory ----
def _wire_directory(services: Services) -> DirectoryService:
    """The directory and its parts; at start-up the bundled data is loaded into an empty
    database and the index built, then the re-verification, digest and campaign jobs run."""
    settings, db, clock = services.settings, services.db, services.clock
    sending = {"db": db, "clock": clock, "outbox": services.outbox,
               "catalogues": services.catalogues, "settings": settings}
    directory = DirectoryService(settings.bundled_data_dir, clock)
    directory.verification = Verification(directory, conversations=services.conversations,
                                          **sending)
    directory.changes = ChangeLog(directory, **sending)

    async def paused_on(session: AsyncSession, user_id: int, day: date) -> bool:
        # The check-ins' calendar (public holidays, /away days); check-ins are wired later.
        checkins = services.checkins
        if checkins is None:
            return False
        absences = [(a.starts_on, a.ends_on) for a in await checkins.absences_of(session, user_id)]
        return bool(checkins.paused_on(day, absences))

    directory.campaign = Campaign(directory, directory.verification, paused_on=paused_on,
                                  **sending)

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
    if services.trust is not None:
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
