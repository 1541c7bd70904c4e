"""Meetings service: agenda points, decisions and action points of a meeting series, and the
follow-up of actions.

Every message to an action's owner goes through the outbox in the transaction that caused it,
under a key built from the action, what is said and the due date it is about, so a restart or a
second pass never sends it twice and a new due date gets its own reminders."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.audience import AudienceResolver, describe
from bot.config import Settings
from bot.conversations import Conversations
from bot.db import Database
from bot.directory.text import phrase
from bot.i18n import Catalogues, _, current_locale
from bot.markup import escape
from bot.meetings.models import ACTION, AGENDA, DECISION, DECLINED, OPEN, MeetingItem
from bot.messages import ChatRef, Reply, command_prefix
from bot.outbox import Outbox, OutboxMessage
from bot.people import User
from bot.policy import allowed
from bot.reminders.formatting import moment
from bot.meetings.texts import (STATUS_LABELS, action_id, due_of, owner_message,
                                parse_action_id)
from bot.reminders.ids import digest, parse_short_id, short_id
from bot.reminders.models import Schedule
from bot.reminders.service import RemindersService
from bot.db import as_utc
from bot.when.recurrence import Firing

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.directory.service import DirectoryService

log = logging.getLogger("coordbot.meetings")

JOB_TICK = "meetings.tick"
# The background prompt that lets an owner answer an action message with 1, 2, 3 (console,
# Matrix) or the choice's words, beside whatever else they are answering (bot/prompts.py).
ANSWER_KIND = "meetings.answer"
ANSWER_TTL = timedelta(days=14)
MAX_OFFERS = 10
DAY_BEFORE = timedelta(days=1)
LOOK_AHEAD = timedelta(days=2)
MORNING = time(9, 0)
BATCH = 200
MAX_LINES = 20  # open actions listed in a reminder or digest (the agenda has its own cap)
# WHEN of an action that means "by the start of the next meeting of the series".
NEXT_MEETING = ("before the next meeting", "by the next meeting", "avant la prochaine reunion",
                "pour la prochaine reunion", "voor de volgende vergadering",
                "tegen de volgende vergadering", "vor der nachsten sitzung",
                "bis zur nachsten sitzung", "до наступної наради")


def _token(instant: datetime | None) -> str:
    return as_utc(instant).strftime("%Y%m%dT%H%M") if instant else "-"


@dataclass(frozen=True)
class Minutes:
    schedule: Schedule
    occurrence: str
    agenda: list[MeetingItem]
    decisions: list[MeetingItem]
    actions: list[MeetingItem]


class MeetingsService:
    def __init__(self, *, settings: Settings, db: Database, clock: Clock, outbox: Outbox,
                 catalogues: Catalogues, conversations: Conversations,
                 reminders: RemindersService, scheduler: AsyncIOScheduler | None,
                 directory: DirectoryService | None) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.outbox = outbox
        self.catalogues = catalogues
        self.conversations = conversations
        self.reminders = reminders
        self.scheduler = scheduler
        self.directory = directory
        self._lines_cache: tuple[AsyncSession | None, dict[Any, list[str]]] = (None, {})

    # --- meetings and their occurrences -----------------------------------------------------

    async def meeting(self, session: AsyncSession, word: str) -> Schedule | None:
        schedule_id = parse_short_id(word) if word else None
        return await self.meeting_by_id(session, schedule_id) if schedule_id else None

    async def meeting_by_id(self, session: AsyncSession, schedule_id: int) -> Schedule | None:
        schedule = await session.get(Schedule, schedule_id)
        return schedule if schedule is not None and schedule.kind == "meeting" else None

    async def _series(self, session: AsyncSession, schedule_id: int) -> Schedule:
        """The series of an item: a foreign key, so it exists while the item does."""
        schedule = await session.get(Schedule, schedule_id)
        if schedule is None:
            raise LookupError(f"schedule {schedule_id} of a meeting item is gone")
        return schedule

    async def meeting_of(self, session: AsyncSession, item: MeetingItem) -> Schedule | None:
        return await session.get(Schedule, item.schedule_id)

    async def action_by_id(self, session: AsyncSession, item_id: int) -> MeetingItem | None:
        item = await session.get(MeetingItem, item_id)
        return item if item is not None and item.kind == ACTION else None

    def _local_date(self, schedule: Schedule, instant: datetime) -> str:
        return instant.astimezone(ZoneInfo(schedule.timezone)).date().isoformat()

    def next_occurrence(self, schedule: Schedule) -> str | None:
        """The meeting the agenda is for: the next one."""
        upcoming = self.reminders.upcoming(schedule, 1)
        return self._local_date(schedule, upcoming[0]) if upcoming else None

    def current_occurrence(self, schedule: Schedule) -> str:
        """The meeting decisions and actions are recorded for: the one just held or about to
        start (an early reminder counts), else the next one; today for a series without any."""
        found = self.reminders.occurrence_to_answer(schedule)
        return self._local_date(schedule, found or self.clock.now())

    def next_meeting_due(self, schedule: Schedule, text: str) -> datetime | None:
        """"avant la prochaine réunion", "voor de volgende vergadering": the start of the
        first meeting after the current one; None when the text does not say that."""
        if phrase(text) not in {phrase(words) for words in NEXT_MEETING}:
            return None
        current = self.current_occurrence(schedule)
        upcoming = self.reminders.upcoming(schedule, 3)
        return next((o for o in upcoming if self._local_date(schedule, o) > current), None)

    async def is_participant(self, session: AsyncSession, schedule: Schedule, user: User,
                             chat_key: str) -> bool:
        return await self.reminders.may_answer(session, schedule, user, chat_key)

    @staticmethod
    def may_record(schedule: Schedule, user: User) -> bool:
        return schedule.owner_id == user.id or allowed(user.role, "meetings.record_any")

    # --- recording ----------------------------------------------------------------------------

    async def add(self, session: AsyncSession, schedule: Schedule, user: User, kind: str,
                  text: str, occurrence: str) -> MeetingItem:
        item = MeetingItem(schedule_id=schedule.id, occurrence=occurrence, kind=kind, text=text,
                           author_id=user.id, created_at=self.clock.now(), owner=[])
        session.add(item)
        await session.flush()
        return item

    async def add_action(self, session: AsyncSession, schedule: Schedule, user: User, *,
                         owner: list[str], due_at: datetime,
                         text: str) -> tuple[MeetingItem, int]:
        """The action, and how many chats of its owners were told (0: nobody reachable yet)."""
        item = MeetingItem(schedule_id=schedule.id, occurrence=self.current_occurrence(schedule),
                           kind=ACTION, text=text, author_id=user.id, created_at=self.clock.now(),
                           owner=list(owner), due_at=due_at, status=OPEN)
        session.add(item)
        await session.flush()
        item_told = await self._tell_owners(session, item, "new")
        log.info("action recorded", extra={"fields": {"action_id": item.id,
                                                      "schedule_id": schedule.id,
                                                      "told": item_told}})
        return item, item_told

    async def items(self, session: AsyncSession, schedule: Schedule, kinds: tuple[str, ...],
                    occurrence: str | None = None) -> list[MeetingItem]:
        query = select(MeetingItem).where(MeetingItem.schedule_id == schedule.id,
                                          MeetingItem.kind.in_(kinds))
        if occurrence is not None:
            query = query.where(MeetingItem.occurrence == occurrence)
        return list(await session.scalars(query.order_by(MeetingItem.id)))

    async def open_actions(self, session: AsyncSession, schedule: Schedule,
                           before: str | None = None) -> list[MeetingItem]:
        query = select(MeetingItem).where(MeetingItem.schedule_id == schedule.id,
                                          MeetingItem.kind == ACTION, MeetingItem.status == OPEN)
        if before is not None:
            query = query.where(MeetingItem.occurrence < before)
        return list(await session.scalars(query.order_by(MeetingItem.due_at, MeetingItem.id)))

    async def my_actions(self, session: AsyncSession, user: User) -> list[MeetingItem]:
        rows = await session.scalars(select(MeetingItem).where(
            MeetingItem.kind == ACTION, MeetingItem.status == OPEN)
            .order_by(MeetingItem.due_at, MeetingItem.id).limit(BATCH))
        resolver = self._resolver(session)
        return [item for item in rows if await self._owns(resolver, item, user)]

    async def action(self, session: AsyncSession, word: str) -> MeetingItem | None:
        item_id = parse_action_id(word) if word else None
        return await self.action_by_id(session, item_id) if item_id else None

    async def may_answer(self, session: AsyncSession, item: MeetingItem, user: User) -> bool:
        """The action's owners answer it; its recorder, the meeting's owner and coordinators
        may close it too."""
        schedule = await session.get(Schedule, item.schedule_id)
        if item.author_id == user.id or (schedule is not None and self.may_record(schedule, user)):
            return True
        return await self._owns(self._resolver(session), item, user)

    def _resolver(self, session: AsyncSession) -> AudienceResolver:
        return AudienceResolver(session, self.directory)

    @staticmethod
    async def _owns(resolver: AudienceResolver, item: MeetingItem, user: User) -> bool:
        return any(person.id == user.id for person in await resolver.people(item.owner or []))

    # --- answers --------------------------------------------------------------------------

    async def close(self, session: AsyncSession, item: MeetingItem, user: User,
                    status: str) -> None:
        item.status, item.closed_by, item.closed_at = status, user.id, self.clock.now()
        await session.flush()
        if status == DECLINED:
            await self._tell_recorder(session, item, user)

    async def postpone(self, session: AsyncSession, item: MeetingItem, due_at: datetime) -> None:
        """A new due date: its own day-before reminder and overdue notice."""
        item.due_at, item.reminded_at, item.overdue_at = due_at, None, None
        await session.flush()

    async def reassign(self, session: AsyncSession, item: MeetingItem, owner: list[str]) -> None:
        item.owner, item.status, item.closed_by, item.closed_at = list(owner), OPEN, None, None
        item.reminded_at = item.overdue_at = None
        await session.flush()
        await self._tell_owners(session, item, f"reassigned:{digest('|'.join(owner))}")

    # --- follow-up ------------------------------------------------------------------------

    async def run_due(self) -> int:
        """Queues the day-before reminders and overdue notices that are due, then delivers.
        Safe to call at any time: each message has its own key."""
        now = self.clock.now()
        queued = 0
        async with self.db.transaction() as session:
            query = select(MeetingItem).where(
                MeetingItem.kind == ACTION, MeetingItem.status == OPEN,
                MeetingItem.due_at <= now + LOOK_AHEAD,
                or_(MeetingItem.reminded_at.is_(None), MeetingItem.overdue_at.is_(None))
            ).order_by(MeetingItem.due_at, MeetingItem.id).limit(BATCH)
            if not self.db.is_sqlite:  # two instances never take the same action
                query = query.with_for_update(skip_locked=True)
            for item in list(await session.scalars(query)):
                queued += await self._follow_up(session, item, now)
            queued += await self._digests(session, now)
        if queued:
            await self.deliver()
        return queued

    async def _digests(self, session: AsyncSession, now: datetime) -> int:
        """Once a week, from Monday 9:00, the meeting's owner gets the series' open actions
        recorded before that Monday (the key holds the week: once per week, after restarts)."""
        ids = list(await session.scalars(select(MeetingItem.schedule_id).where(
            MeetingItem.kind == ACTION, MeetingItem.status == OPEN).distinct()))
        queued = 0
        for schedule in [await self._series(session, i) for i in sorted(ids)[:BATCH]]:
            local = now.astimezone(ZoneInfo(schedule.timezone)).date()
            monday = self._morning(schedule, local - timedelta(days=local.weekday()))
            actions = [a for a in await self.open_actions(session, schedule)
                       if as_utc(a.created_at) < monday]
            if actions and now >= monday:
                week = local.isocalendar()
                queued += await self._digest(session, schedule, actions,
                                             f"{week.year}-W{week.week:02d}")
        return queued

    async def _digest(self, session: AsyncSession, schedule: Schedule,
                      actions: list[MeetingItem], week: str) -> int:
        owner = await session.get(User, schedule.owner_id)
        target = await self._resolver(session).direct(owner) if owner else None
        if owner is None or target is None:
            return 0
        key = f"act-digest:{schedule.id}:{week}"
        if await session.scalar(select(OutboxMessage.id).where(
                OutboxMessage.idempotency_key == key)) is not None:
            return 0
        tz = owner.timezone or schedule.timezone
        now = self.clock.now()
        with self.catalogues.use(owner.locale or self.settings.default_locale):
            lines = [_("Open actions of {title} ({id}) this week:").format(
                title=escape(schedule.title), id=short_id(schedule.id))]
            for item in actions[:MAX_LINES]:
                line = await self.action_line(session, item, tz)
                lines.append(line + (" — " + _("overdue") if due_of(item) < now else ""))
        return await self.outbox.enqueue(session, ChatRef.parse(target.chat_key),
                                         Reply("\n".join(lines)), key,
                                         source=f"meeting-digest:{schedule.id}")

    async def _follow_up(self, session: AsyncSession, item: MeetingItem, now: datetime) -> int:
        """In working hours, in the meeting's time zone: the reminder from 9:00 the day before
        the due date, the overdue notice from 9:00 the day after."""
        schedule = await self._series(session, item.schedule_id)
        due = due_of(item)
        day = due.astimezone(ZoneInfo(schedule.timezone)).date()
        if item.overdue_at is None and now >= self._morning(schedule, day + timedelta(days=1)):
            item.overdue_at = item.reminded_at = now
            return await self._tell_owners(session, item, f"late:{_token(due)}")
        if item.reminded_at is None and self._morning(schedule, day - DAY_BEFORE) <= now < due:
            item.reminded_at = now
            return await self._tell_owners(session, item, f"due:{_token(due)}")
        return 0

    @staticmethod
    def _morning(schedule: Schedule, day: date) -> datetime:
        zone = ZoneInfo(schedule.timezone)
        return datetime.combine(day, MORNING, tzinfo=zone).astimezone(UTC)

    async def deliver(self) -> None:
        for _pass in range(20):
            if await self.outbox.deliver_pending(limit=500) < 500:
                return

    async def start_jobs(self, _services: object = None) -> None:
        if self.scheduler is None:
            return
        self.scheduler.add_job(
            self.run_due, "interval", seconds=self.settings.reminders_tick_seconds, id=JOB_TICK,
            replace_existing=True, max_instances=1, coalesce=True)

    async def _tell_owners(self, session: AsyncSession, item: MeetingItem, what: str) -> int:
        recipients, _unreachable = await self._resolver(session).resolve(item.owner or [])
        schedule = await self._series(session, item.schedule_id)
        author = await session.get(User, item.author_id) if item.author_id else None
        queued = 0
        for recipient in recipients:
            with self.catalogues.use(recipient.locale or (author.locale if author else None)
                                     or self.settings.default_locale):
                reply = owner_message(item, schedule, recipient, what.partition(":")[0])
            sent = await self.outbox.enqueue(
                session, ChatRef.parse(recipient.chat_key), reply,
                f"act:{item.id}:{what}:{digest(recipient.chat_key)}", source=f"action:{item.id}")
            if sent and recipient.is_direct and recipient.user_id is not None:
                await self._offer(session, recipient.chat_key, recipient.user_id, item)
            queued += sent
        return queued

    async def _offer(self, session: AsyncSession, chat_key: str, user_id: int,
                     item: MeetingItem) -> None:
        conversations = self.conversations
        pending = await conversations.current(session, chat_key, user_id, kind=ANSWER_KIND)
        offered = [i for i in (pending.payload.get("actions", []) if pending else [])
                   if i != item.id][-(MAX_OFFERS - 1):] + [item.id]
        await conversations.start(session, chat_key, user_id, ANSWER_KIND,
                                  {"actions": offered}, ttl=ANSWER_TTL, background=True)

    async def _tell_recorder(self, session: AsyncSession, item: MeetingItem, user: User) -> None:
        """"Not mine": the recorder (else the meeting's owner) hears it, to reassign it."""
        schedule = await self._series(session, item.schedule_id)
        recorder = await session.get(User, item.author_id or schedule.owner_id)
        if recorder is None:
            return
        target = await self._resolver(session).direct(recorder)
        chat_key = target.chat_key if target else schedule.origin_chat
        if not chat_key:
            return
        prefix = command_prefix(chat_key)
        with self.catalogues.use(recorder.locale or self.settings.default_locale):
            text = _("{name} says action {id} (“{text}”) is not theirs. Give it to someone else "
                     "with {prefix}reassign {id}; OWNER.").format(
                         name=escape(user.display_name), id=action_id(item.id),
                         text=escape(item.text), prefix=prefix)
        await self.outbox.enqueue(session, ChatRef.parse(chat_key), Reply(text),
                                  f"act:{item.id}:declined:{user.id}:{_token(item.closed_at)}",
                                  source=f"action:{item.id}")

    # --- what other features show -----------------------------------------------------------

    async def reminder_lines(self, session: AsyncSession, schedule: Schedule, firing: Firing,
                             tz: str) -> list[str]:
        """Added to a delivered meeting reminder (bot/reminders/service.py `extra_lines`): the
        agenda of this meeting and the actions still open from earlier ones."""
        if schedule.kind != "meeting":
            return []
        # One delivery pass (one session) writes the same lines for every recipient who
        # shares a language and time zone: built once per pass, not once per person.
        if self._lines_cache[0] is not session:
            self._lines_cache = (session, {})
        key = (schedule.id, firing.occurrence, current_locale(), tz)
        if key not in self._lines_cache[1]:
            self._lines_cache[1][key] = await self._reminder_lines(session, schedule, firing, tz)
        return self._lines_cache[1][key]

    async def _reminder_lines(self, session: AsyncSession, schedule: Schedule, firing: Firing,
                              tz: str) -> list[str]:
        occurrence = self._local_date(schedule, firing.occurrence)
        lines = []
        agenda = await self.items(session, schedule, (AGENDA,), occurrence)
        if agenda:
            lines.append(_("Agenda:"))
            lines += [f"{n}. {escape(i.text)}" for n, i in enumerate(agenda, 1)]
        actions = await self.open_actions(session, schedule, before=occurrence)
        if actions:
            lines.append(_("Open actions from earlier meetings:"))
            for item in actions[:MAX_LINES]:
                lines.append(await self.action_line(session, item, tz))
            if len(actions) > MAX_LINES:
                lines.append(_("… and {count} more.").format(count=len(actions) - MAX_LINES))
        return lines

    async def action_line(self, session: AsyncSession, item: MeetingItem, tz: str) -> str:
        owner = await describe(session, self.directory, item.owner or [], "")
        line = _("{id} {text} — {owner}, due {when}").format(
            id=action_id(item.id), text=escape(item.text), owner=escape(owner),
            when=moment(due_of(item), tz))
        if item.status != OPEN:
            line += f" ({_(STATUS_LABELS[item.status or OPEN])})"
        return "• " + line

    async def minutes(self, session: AsyncSession, schedule: Schedule,
                      occurrence: str | None) -> Minutes:
        """One meeting's record; without a date, the latest meeting that has decisions or
        actions, else the current one."""
        if occurrence is None:
            occurrence = await session.scalar(select(MeetingItem.occurrence).where(
                MeetingItem.schedule_id == schedule.id,
                MeetingItem.kind.in_((DECISION, ACTION))).order_by(
                MeetingItem.occurrence.desc()).limit(1)) or self.current_occurrence(schedule)
        return Minutes(schedule, occurrence,
                       await self.items(session, schedule, (AGENDA,), occurrence),
                       await self.items(session, schedule, (DECISION,), occurrence),
                       await self.items(session, schedule, (ACTION,), occurrence))

    async def calendar_todos(self, session: AsyncSession, user: User,
                             schedules: list[Schedule]) -> list[MeetingItem]:
        """Actions for the .ics export: those of the person's meetings and their own."""
        ids = [s.id for s in schedules if s.kind == "meeting"]
        series = list(await session.scalars(select(MeetingItem).where(
            MeetingItem.kind == ACTION, MeetingItem.schedule_id.in_(ids)))) if ids else []
        found = {item.id: item for item in series}
        for item in await self.my_actions(session, user):
            found.setdefault(item.id, item)
        return [found[key] for key in sorted(found)]
