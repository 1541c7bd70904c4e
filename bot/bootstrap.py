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
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.checkins.service import build as build_checkins
from bot.clock import Clock, clock_from_settings
from bot.config import Settings
from bot.conversations import Conversations
from bot.db import Database
from bot.directory.service import build as build_directory
from bot.handlers import FEATURES
from bot.i18n import Catalogues
from bot.leader import LeaderLoop, Lease
from bot.meetings.service import build as build_meetings
from bot.messages import IncomingMessage, Reply
from bot.outbox import Outbox
from bot.people import People
from bot.reminders.service import build as build_reminders
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
    services.directory = build_directory(services)
    services.reminders = build_reminders(services)
    services.checkins = build_checkins(services)
    services.web = _wire_web(services)
    services.meetings = build_meetings(services)
    return App(services)
