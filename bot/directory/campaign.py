"""The completeness campaign (issue 18, section 3): a coordinator asks every focal point whose
entry lacks a phone number or an e-mail address to complete it in chat (`/myentry`).

One `CompletionRequest` per entry and campaign. The question and up to two nudges go through
the outbox (key per request and step, so each is sent once); they follow the check-in rules:
nothing is sent on a Belgian public holiday or during the person's `/away` absence (the next
run tries again), and a nudge goes only to those who have not answered. A request is answered
once the entry has both a phone and an e-mail, or its focal point saved a change to it since
being asked. An entry with an open request from an earlier campaign is not asked twice.

`run_due()` is the due work; the scheduler calls it hourly (job `directory.campaign`) and tests
call it with a FakeClock. No chat code here."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import ForeignKey, Integer, String, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.config import Settings
from bot.db import Base, Database, UTCDateTime
from bot.directory.changes import DirectoryChange
from bot.directory.models import DirectoryEntry, utcnow
from bot.i18n import Catalogues, _
from bot.markup import bold
from bot.messages import ChatRef, Choice, Reply, command_prefix
from bot.outbox import Outbox
from bot.people import User

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.directory.service import DirectoryService
    from bot.directory.verification import Verification

log = logging.getLogger("coordbot.directory")

JOB_ID = "directory.campaign"
NUDGE_AFTER_DAYS = (3, 7)     # after the question; at most two nudges
MAX_STEPS = 1 + len(NUDGE_AFTER_DAYS)
GIVE_UP_DAYS = 21             # a step paused this long (a long absence) is dropped

# Whether nothing is sent to this person (user id) on this day of theirs: a public holiday
# or one of their `/away` days (the check-ins' calendar).
PausedOn = Callable[[AsyncSession, int, date], Awaitable[bool]]


class CompletionRequest(Base):
    __tablename__ = "directory_completion_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign: Mapped[int] = mapped_column(Integer, index=True)
    entry_id: Mapped[str] = mapped_column(String(100), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    chat_key: Mapped[str] = mapped_column(String(300))
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    steps_sent: Mapped[int] = mapped_column(Integer, default=0)  # question + nudges sent
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


@dataclass(frozen=True)
class Plan:
    """Who a new campaign would ask: (entry id, focal point user, chat key); how many
    incomplete entries have no reachable focal point; how many already have an open request."""
    targets: list[tuple[str, User, str]]
    unreachable: int
    already_asked: int


@dataclass(frozen=True)
class Progress:
    campaign: int
    asked: int
    answered: int
    waiting: int


def lacks_contact(entry: DirectoryEntry) -> bool:
    return not (entry.phone and entry.email)


class Campaign:
    def __init__(self, directory: DirectoryService, verification: Verification, *,
                 db: Database, clock: Clock, outbox: Outbox, catalogues: Catalogues,
                 settings: Settings, paused_on: PausedOn) -> None:
        self.directory = directory
        self.verification = verification
        self.db = db
        self.clock = clock
        self.outbox = outbox
        self.catalogues = catalogues
        self.settings = settings
        self.paused_on = paused_on

    def _now(self) -> datetime:
        return self.clock.now()

    async def plan(self, session: AsyncSession) -> Plan:
        linked = await self.verification.linked_entries(session)
        open_ids = set(await session.scalars(select(CompletionRequest.entry_id).where(
            CompletionRequest.answered_at.is_(None),
            CompletionRequest.steps_sent < MAX_STEPS)))
        rows = (await session.scalars(select(DirectoryEntry).where(
            DirectoryEntry.status == "active").order_by(DirectoryEntry.position,
                                                         DirectoryEntry.id))).unique()
        targets, unreachable, already = [], 0, 0
        for entry in rows:
            if not lacks_contact(entry):
                continue
            if entry.id in open_ids:
                already += 1
                continue
            if not (entry.matrix or entry.telegram or entry.id in linked):
                unreachable += 1
                continue
            focal = await self.verification.focal_point(session, entry, linked.get(entry.id, []))
            if focal is None:
                unreachable += 1
            else:
                targets.append((entry.id, focal.user, focal.chat_key))
        return Plan(targets, unreachable, already)

    async def start(self, session: AsyncSession, coordinator: User) -> tuple[int, int]:
        """Creates the requests of a new campaign; the questions go out with the next run
        (at once unless today is a holiday or the person is away). Returns (campaign, count)."""
        plan = await self.plan(session)
        number = (await session.scalar(select(func.max(CompletionRequest.campaign))) or 0) + 1
        now = self._now()
        for entry_id, user, chat_key in plan.targets:
            session.add(CompletionRequest(campaign=number, entry_id=entry_id, user_id=user.id,
                                          chat_key=chat_key, created_by=coordinator.id,
                                          created_at=now))
        await session.flush()
        return number, len(plan.targets)

    async def progress(self, session: AsyncSession) -> Progress | None:
        number = await session.scalar(select(func.max(CompletionRequest.campaign)))
        if number is None:
            return None
        requests = list(await session.scalars(select(CompletionRequest).where(
            CompletionRequest.campaign == number)))
        for request in requests:
            await self._check_answered(session, request)
        answered = sum(1 for r in requests if r.answered_at is not None)
        asked = sum(1 for r in requests if r.steps_sent)
        return Progress(number, asked, answered, len(requests) - answered)

    # ---- due work --------------------------------------------------------------------------
    async def run_due(self) -> int:
        """Sends the due questions and nudges; returns how many were queued."""
        sent = 0
        async with self.db.transaction() as session:
            requests = list(await session.scalars(select(CompletionRequest).where(
                CompletionRequest.answered_at.is_(None),
                CompletionRequest.steps_sent < MAX_STEPS).order_by(CompletionRequest.id)))
            for request in requests:
                if await self._check_answered(session, request):
                    continue
                sent += await self._step(session, request)
        if sent:
            log.info("directory completion campaign", extra={"fields": {"sent": sent}})
        return sent

    async def _check_answered(self, session: AsyncSession, request: CompletionRequest) -> bool:
        if request.answered_at is not None:
            return True
        entry = await session.get(DirectoryEntry, request.entry_id)
        changed = None
        if request.asked_at is not None:
            changed = await session.scalar(select(DirectoryChange.id).where(
                DirectoryChange.entry_id == request.entry_id,
                DirectoryChange.changed_by == request.user_id,
                DirectoryChange.changed_at >= request.asked_at).limit(1))
        if entry is None or not lacks_contact(entry) or changed is not None:
            request.answered_at = self._now()
            return True
        return False

    def _due(self, request: CompletionRequest) -> datetime:
        if request.steps_sent == 0 or request.asked_at is None:
            return request.created_at
        return request.asked_at + timedelta(
            days=NUDGE_AFTER_DAYS[request.steps_sent - 1])

    async def _step(self, session: AsyncSession, request: CompletionRequest) -> int:
        now, due = self._now(), self._due(request)
        if now < due:
            return 0
        user = await session.get(User, request.user_id)
        if user is None:
            return 0
        if await self._paused(session, user, now):
            if now - due > timedelta(days=GIVE_UP_DAYS):  # a long absence: drop this step
                request.steps_sent += 1
            return 0
        step = request.steps_sent
        reply = self._message(request, user, nudge=step > 0)
        key = f"dircomplete:{request.id}:{step}"
        queued = await self.outbox.enqueue(session, ChatRef.parse(request.chat_key), reply, key,
                                           source=f"directory:{request.entry_id}")
        request.steps_sent = step + 1
        if step == 0:
            request.asked_at = now
        return 1 if queued else 0

    async def _paused(self, session: AsyncSession, user: User, now: datetime) -> bool:
        """A public holiday or one of the person's `/away` days, in their time zone."""
        try:
            zone = ZoneInfo(user.timezone or self.settings.timezone)
        except (KeyError, ValueError):
            zone = ZoneInfo("Europe/Brussels")
        today: date = now.astimezone(zone).date()
        return await self.paused_on(session, user.id, today)

    def _message(self, request: CompletionRequest, user: User, nudge: bool) -> Reply:
        record = self.directory.index.get(request.entry_id)
        chat = ChatRef.parse(request.chat_key)
        prefix = command_prefix(chat.platform)
        with self.catalogues.use(user.locale or self.settings.default_locale):
            lines = [_("A reminder: your directory entry is still incomplete.") if nudge
                     else _("Your directory entry is incomplete.")]
            name = bold(record.organisation if record else request.entry_id)
            if record is not None and record.phone:
                gap = _("{name} has no e-mail address in the directory.")
            elif record is not None and record.email:
                gap = _("{name} has no phone number in the directory.")
            else:
                gap = _("{name} has no phone number or e-mail address in the directory.")
            lines.append(gap.format(name=name) + " " + _(
                "People who find it cannot reach you. Please complete it; it takes a minute."))
            lines.append(_("Send {prefix}myentry or press the button.").format(prefix=prefix))
            return Reply("\n".join(lines), [Choice(_("Complete my entry"),
                                                   f"{prefix}myentry {request.entry_id}")])
