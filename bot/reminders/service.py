"""The reminders service: saving schedules, delivering what is due, acknowledgements and
broadcasts.

Delivery is exactly-once per (schedule, occurrence, lead time, chat) up to the outbox
(bot/reminders/delivery.py). The scheduler only decides *when* to look: one date job at the
earliest `next_due` plus a safety tick, both derived from the database at start-up with
stable ids."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.audience import Recipient
from bot.audience.resolver import Unreachable
from bot.config import Settings
from bot.db import Database
from bot.outbox import Outbox
from bot.people import Identity, User
from bot.policy import allowed
from bot.reminders.broadcasts import Broadcasts
from bot.reminders.calendar import calendar_ics
from bot.reminders.delivery import BATCH as DELIVERY_BATCH
from bot.reminders.delivery import Delivery, ExtraLines
from bot.reminders.models import Acknowledgement, Broadcast, Schedule
from bot.reminders.timing import recurrence_of, scheduler_time, set_next_due
from bot.when import When
from bot.db import as_utc
from bot.when.recurrence import Recurrence, format_local

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.directory.service import DirectoryService
    from bot.messages import Reply

log = logging.getLogger("coordbot.reminders")

JOB_NEXT, JOB_TICK, JOB_WAKE = "reminders.next", "reminders.tick", "reminders.wake"
MAX_BATCHES = 50
OUTBOX_PASS = 500
ACK_OCCURRENCES_LOOKED_AT = 50
AUDIENCE_KINDS = {"all", "user", "chat", "role", "org", "area"}
# What another feature adds to /calendar (meetings: actions as VTODO): (session, person,
# their schedules) -> items with `id`, `text`, `due_at`, `status`.
CalendarItems = Callable[[AsyncSession, User, list[Schedule]], Awaitable[list[Any]]]


class RemindersService:
    def __init__(self, *, settings: Settings, db: Database, clock: Clock, outbox: Outbox,
                 scheduler: AsyncIOScheduler | None, delivery: Delivery,
                 broadcasts: Broadcasts, directory: DirectoryService | None) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.outbox = outbox
        self.scheduler = scheduler
        self.delivery = delivery
        self.broadcasts = broadcasts
        self.directory = directory
        self._lock = asyncio.Lock()
        self._calendar_items: list[CalendarItems] = []

    def add_reminder_lines(self, lines: ExtraLines) -> None:
        """Another feature adds lines to every delivered reminder, without reminders knowing
        it (meetings: the agenda and the open actions)."""
        self.delivery.extra_lines.append(lines)

    def add_calendar_items(self, items: CalendarItems) -> None:
        """Another feature adds to-dos to /calendar (meetings: the open actions)."""
        self._calendar_items.append(items)

    # --- schedules ------------------------------------------------------------------------

    def recurrence(self, schedule: Schedule) -> Recurrence:
        return recurrence_of(schedule)

    def upcoming(self, schedule: Schedule, count: int = 3) -> list[datetime]:
        return self.recurrence(schedule).next_occurrences(self.clock.now(), count)

    async def create(self, session: AsyncSession, *, kind: str, message: str, when: When,
                     audience: list[str], owner: User, origin_chat: str) -> Schedule:
        schedule = Schedule(
            kind=kind, title=_title(message), message=message, timezone=when.timezone,
            start_local=format_local(when.start_local), rrule=when.rrule,
            leads_minutes=list(when.leads_minutes), audience=list(audience), owner_id=owner.id,
            origin_chat=origin_chat, exdates=[], skip_holidays=when.skip_holidays, active=True,
            created_at=self.clock.now())
        set_next_due(schedule, self.clock.now())
        session.add(schedule)
        await session.flush()
        log.info("reminder created", extra={"fields": {
            "schedule_id": schedule.id, "kind": kind, "recurring": bool(when.rrule)}})
        return schedule

    async def update(self, session: AsyncSession, schedule: Schedule, *, when: When | None,
                     message: str | None, audience: list[str] | None) -> Schedule:
        if when is not None:
            schedule.timezone, schedule.rrule = when.timezone, when.rrule
            schedule.start_local = format_local(when.start_local)
            schedule.leads_minutes = list(when.leads_minutes)
            schedule.skip_holidays, schedule.exdates = when.skip_holidays, []
        if message is not None:
            schedule.message, schedule.title = message, _title(message)
        if audience is not None:
            schedule.audience = list(audience)
        set_next_due(schedule, self.clock.now())
        await session.flush()
        return schedule

    async def get(self, session: AsyncSession, schedule_id: int) -> Schedule | None:
        return await session.get(Schedule, schedule_id)

    async def visible(self, session: AsyncSession, user: User, chat_key: str, *,
                      everything: bool) -> list[Schedule]:
        """Active schedules the person owns or that address them or this chat; coordinators
        (`everything`) see them all."""
        query = select(Schedule).where(Schedule.active == True).order_by(  # noqa: E712
            Schedule.next_due, Schedule.id)
        schedules = list(await session.scalars(query))
        if everything:
            return schedules
        own_tokens = {f"user:{user.id}", f"chat:{chat_key}", f"role:{user.role.code}"}
        if user.organisation_id:
            own_tokens.add(f"org:{user.organisation_id}")
        own_chats = await self._direct_chats(session, user)
        own_tokens |= {f"chat:{key}" for key in own_chats}
        return [s for s in schedules
                if s.owner_id == user.id or own_tokens & set(s.audience or [])]

    async def _direct_chats(self, session: AsyncSession, user: User) -> set[str]:
        identities = await session.scalars(select(Identity).where(
            Identity.user_id == user.id, Identity.direct_chat_id.is_not(None)))
        return {f"{i.platform}:{i.direct_chat_id}" for i in identities}

    async def cancel(self, session: AsyncSession, schedule: Schedule) -> None:
        schedule.active, schedule.next_due = False, None
        await session.flush()

    async def skip_next(self, session: AsyncSession,
                        schedule: Schedule) -> tuple[datetime | None, datetime | None]:
        """Excludes the next occurrence (RFC 5545 EXDATE); returns it and the one after."""
        recurrence = self.recurrence(schedule)
        upcoming = recurrence.next_occurrences(self.clock.now(), 2)
        if not upcoming:
            return None, None
        skipped = upcoming[0]
        local = skipped.astimezone(recurrence.tz).replace(tzinfo=None)
        schedule.exdates = [*(schedule.exdates or []), format_local(local)]
        set_next_due(schedule, self.clock.now())
        await session.flush()
        return skipped, upcoming[1] if len(upcoming) > 1 else None

    # --- delivery -------------------------------------------------------------------------

    async def run_due(self) -> int:
        """Queues every due message, sends the outbox, plans the next wake-up. Returns how
        many messages were queued. Safe to call at any time, from any number of triggers."""
        async with self._lock:
            queued = 0
            for _batch in range(MAX_BATCHES):
                count, found = await self.delivery.run_batch()
                queued += count
                if count:  # send this batch before computing the next one
                    await self._send_outbox()
                if found < DELIVERY_BATCH:
                    break
        await self.deliver()
        await self.plan_next_job()
        return queued

    async def deliver(self) -> None:
        await self._send_outbox()
        if await self.report_broadcasts():
            await self._send_outbox()

    async def _send_outbox(self) -> None:
        for _pass in range(20):
            if await self.outbox.deliver_pending(limit=OUTBOX_PASS) < OUTBOX_PASS:
                return

    # --- scheduler ------------------------------------------------------------------------

    async def start_jobs(self, _services: object = None) -> None:
        """Start-up hook: derives the jobs from the database. Stable ids and
        `replace_existing` mean a restart replaces rather than duplicates them."""
        scheduler = self.scheduler
        if scheduler is None:
            return
        scheduler.add_job(self.run_due, "interval", seconds=self.settings.reminders_tick_seconds,
                          id=JOB_TICK, replace_existing=True, max_instances=1, coalesce=True)
        await self.plan_next_job(force=True)

    async def next_due(self) -> datetime | None:
        async with self.db.session() as session:
            found = await session.scalar(select(func.min(Schedule.next_due)).where(
                Schedule.active == True))  # noqa: E712
        return as_utc(found) if found else None

    async def plan_next_job(self, force: bool = False) -> datetime | None:
        """(Re)places the one date job at the earliest due moment."""
        scheduler = self.scheduler
        if scheduler is None or not (force or scheduler.running):
            return None
        due = await self.next_due()
        if due is None:
            return None
        # At start-up a second later than "now", so that transports are attached first.
        earliest = self.clock.now() + (timedelta() if scheduler.running else timedelta(seconds=1))
        run_at = max(due, earliest)
        # Several instances may overlap for a moment (the one planning this is still
        # finishing); `_lock` serialises them, and a skipped run would mean a late reminder.
        scheduler.add_job(self.run_due, "date", run_date=scheduler_time(run_at, self.clock),
                          id=JOB_NEXT, replace_existing=True, misfire_grace_time=None,
                          max_instances=5)
        return due

    async def replan(self) -> None:
        """After a schedule was cancelled or skipped: the date job moves to the new earliest."""
        await self.plan_next_job()

    async def wake(self) -> None:
        """After a change (a new schedule, a confirmed broadcast): run the due work right
        after the current reply went out, and move the date job if needed."""
        scheduler = self.scheduler
        if scheduler is None or not scheduler.running:
            await self.run_due()  # tests and tools without a running scheduler
            return
        scheduler.add_job(self.run_due, "date",
                          run_date=datetime.now(UTC) + timedelta(milliseconds=100),
                          id=JOB_WAKE, replace_existing=True, misfire_grace_time=None,
                          max_instances=5)

    # --- acknowledgements -----------------------------------------------------------------

    async def may_answer(self, session: AsyncSession, schedule: Schedule, user: User,
                         chat_key: str) -> bool:
        """Whether `user`, writing in `chat_key`, may answer this reminder: its owner, a
        coordinator who may manage it, or someone its audience addresses (in that chat: a
        group it is sent to, or the person's own chats)."""
        if schedule.owner_id == user.id or allowed(user.role, "reminders.manage_any"):
            return True
        own_chats = {chat_key} | await self._direct_chats(session, user)
        tokens = list(schedule.audience or [])
        if any(self._addresses(token, user, own_chats) for token in tokens):
            return True
        unknown = [t for t in tokens
                   if any(p.partition(":")[0] not in AUDIENCE_KINDS for p in t.split("&"))]
        if not unknown:
            return False
        # A kind of audience this module does not know: the resolver that delivers decides.
        recipients, _unreachable = await self.broadcast_recipients(session, unknown)
        return any(r.user_id == user.id or r.chat_key in own_chats for r in recipients)

    def _addresses(self, token: str, user: User, own_chats: set[str]) -> bool:
        """Whether one audience token reaches this person, by the rules the resolver
        (bot/audience/resolver.py) delivers with, without resolving everyone it reaches: `a&b`
        narrows, so every part must reach them."""
        if "&" in token:
            return all(self._addresses(part, user, own_chats) for part in token.split("&"))
        kind, _sep, value = token.partition(":")
        if kind == "area":
            directory = self.directory
            if directory is None:
                return False
            entry = directory.home_entry(user.entry_id, user.organisation_id)
            return entry is not None and directory.entry_in_place(entry, value)
        return (kind == "all" or (kind == "user" and value == str(user.id))
                or (kind == "chat" and value in own_chats)
                or (kind == "role" and value == user.role.code)
                or (kind == "org" and value in {user.organisation_id, user.entry_id}))

    def answerable(self, schedule: Schedule, occurrence: datetime) -> bool:
        """A real occurrence of the schedule that was announced (due, or its early reminder
        sent) or is the next one: never an invented time, nor one years ahead."""
        occurrence = as_utc(occurrence)
        recurrence = self.recurrence(schedule)
        if not self._first_possible(recurrence) <= occurrence <= self._answerable_until(schedule):
            return False
        found = next(iter(recurrence.after(occurrence - timedelta(seconds=1))), None)
        return found == occurrence

    @staticmethod
    def _first_possible(recurrence: Recurrence) -> datetime:
        return recurrence.start_local.replace(tzinfo=UTC) - timedelta(days=1)

    def _answerable_until(self, schedule: Schedule) -> datetime:
        now = self.clock.now()
        upcoming = self.upcoming(schedule, 1)
        lead = timedelta(minutes=max([0, *(int(m) for m in schedule.leads_minutes or [])]))
        return max([now + lead, *upcoming])

    async def record_ack(self, session: AsyncSession, schedule: Schedule, occurrence: datetime,
                         user: User, answer: str) -> None:
        existing = await session.scalar(select(Acknowledgement).where(
            Acknowledgement.schedule_id == schedule.id,
            Acknowledgement.occurrence == occurrence, Acknowledgement.user_id == user.id))
        if existing is None:
            session.add(Acknowledgement(schedule_id=schedule.id, occurrence=occurrence,
                                        user_id=user.id, answer=answer,
                                        answered_at=self.clock.now()))
        else:
            existing.answer, existing.answered_at = answer, self.clock.now()
        await session.flush()

    async def acknowledgements(self, session: AsyncSession,
                               schedule: Schedule) -> tuple[datetime | None, list[tuple[str, str]]]:
        """The latest real occurrence anyone answered, and (name, answer) for it. Answers
        to times that are not occurrences (stored before they were refused) are passed over."""
        answered = await session.scalars(
            select(Acknowledgement.occurrence).where(Acknowledgement.schedule_id == schedule.id)
            .group_by(Acknowledgement.occurrence)
            .order_by(Acknowledgement.occurrence.desc()).limit(ACK_OCCURRENCES_LOOKED_AT))
        latest = next((o for o in answered if self.answerable(schedule, o)), None)
        if latest is None:
            return None, []
        rows = await session.execute(
            select(User.display_name, Acknowledgement.answer)
            .join(User, User.id == Acknowledgement.user_id)
            .where(Acknowledgement.schedule_id == schedule.id,
                   Acknowledgement.occurrence == latest)
            .order_by(Acknowledgement.answer, User.display_name))
        return as_utc(latest), [(name, answer) for name, answer in rows]

    async def upcoming_with_answers(self, session: AsyncSession, kinds: tuple[str, ...],
                                    limit: int) -> list[tuple[Schedule, datetime | None,
                                                              dict[str, int]]]:
        """Active schedules of `kinds`, soonest first, each with its latest answered
        occurrence and how many gave each answer to it (the dashboard's meetings and
        deadlines)."""
        schedules = list(await session.scalars(
            select(Schedule).where(Schedule.active == True,  # noqa: E712
                                   Schedule.kind.in_(kinds))
            .order_by(Schedule.next_due, Schedule.id).limit(limit)))
        latest: dict[int, tuple[datetime | None, dict[str, int]]] = {}
        for schedule_id, occurrence, answer, count in await session.execute(
                select(Acknowledgement.schedule_id, Acknowledgement.occurrence,
                       Acknowledgement.answer, func.count())
                .where(Acknowledgement.schedule_id.in_([s.id for s in schedules]))
                .group_by(Acknowledgement.schedule_id, Acknowledgement.occurrence,
                          Acknowledgement.answer)
                .order_by(Acknowledgement.occurrence)):
            seen, counts = latest.get(schedule_id, (None, {}))
            counts = counts if seen == occurrence else {}
            counts[answer] = count
            latest[schedule_id] = (occurrence, counts)
        return [(s, *latest.get(s.id, (None, {}))) for s in schedules]

    def occurrence_to_answer(self, schedule: Schedule) -> datetime | None:
        """The occurrence an answer without a time is about: the one the person was last
        reminded of (an early reminder counts), else the next one."""
        now = self.clock.now()
        lead = timedelta(minutes=max([0, *(int(m) for m in schedule.leads_minutes or [])]))
        upcoming = self.upcoming(schedule, 1)
        if upcoming and upcoming[0] - lead <= now:
            return upcoming[0]
        recurrence = self.recurrence(schedule)
        for days in (1, 8, 32, 367):   # the latest past occurrence, looking back step by step
            past = [o for o in recurrence.after(now - timedelta(days=days), limit=400)
                    if o <= now]
            if past:
                return past[-1]
        return upcoming[0] if upcoming else None

    # --- broadcasts and calendar -----------------------------------------------------------

    async def broadcast_recipients(self, session: AsyncSession,
                                   tokens: list[str]) -> tuple[list[Recipient], list[Unreachable]]:
        return await self.broadcasts.recipients(session, tokens)

    async def create_broadcast(self, session: AsyncSession, sender: User, sender_chat: str,
                               text: str, tokens: list[str]) -> tuple[Broadcast, int]:
        return await self.broadcasts.create(session, sender, sender_chat, text, tokens)

    async def report_broadcasts(self) -> int:
        return await self.broadcasts.report_settled()

    async def report_reply(self, session: AsyncSession, broadcast: Broadcast,
                           hidden_chats: frozenset[str] = frozenset()) -> Reply:
        return await self.broadcasts.report_reply(session, broadcast, hidden_chats)

    async def calendar_file(self, session: AsyncSession, user: User,
                            chat_key: str) -> tuple[int, bytes | None]:
        """The person's meetings and deadlines (with what other features add) as an .ics
        file, and how many there are; None without any."""
        schedules = [s for s in await self.visible(session, user, chat_key, everything=False)
                     if s.kind in {"meeting", "deadline"}]
        if not schedules:
            return 0, None
        items = [item for extra in self._calendar_items
                 for item in await extra(session, user, schedules)]
        return len(schedules), calendar_ics(schedules, self.clock.now(), todos=items)


def _title(message: str) -> str:
    first = message.strip().splitlines()[0] if message.strip() else ""
    return first[:80] + ("…" if len(first) > 80 else "")
