"""The composition root: builds every part of the application from settings, and accepts
fakes (clock, transports) for tests. Nothing is built at import time anywhere else."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.checkins.service import build as build_checkins
from bot.clock import clock_from_settings
from bot.config import Settings
from bot.conversations import Conversations
from bot.db import Database
from bot.devices import DeviceVerifications
from bot.devices.notices import AdminNotices
from bot.directory.service import build as build_directory
from bot.leader import LeaderLoop, Lease
from bot.meetings.service import build as build_meetings
from bot.i18n import Catalogues, _, ngettext, normalize_locale
from bot.messages import ChatRef, IncomingMessage, Reply
from bot.outbox import Outbox
from bot.people import People
from bot.reminders.service import build as build_reminders
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
    services.directory = build_directory(services)
    services.reminders = build_reminders(services)
    services.checkins = build_checkins(services)
    services.web = build_web(services)
    services.meetings = build_meetings(services)
    services.devices = _wire_devices(services)
    return App(services)


# ---- devices ----

def _wire_devices(services: Services) -> DeviceVerifications:
    """Matrix device verifications and admins' approvals, shared by the Matrix transport and
    the `!verify-device` command."""
    notices = AdminNotices(services.db, services.outbox, services.catalogues,
                           services.settings.default_locale)
    return DeviceVerifications(services.db, services.people, services.clock,
                               on_waiting=notices.verification_waiting)
