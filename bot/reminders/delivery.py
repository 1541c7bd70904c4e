"""One delivery pass over due schedules: every due message is written to the outbox in the
transaction that moves `next_due` forward, under a key built from (schedule, occurrence, lead
time, chat), so a crash keeps both or neither and a second pass queues nothing twice."""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.audience import AudienceResolver, Recipient
from bot.config import Settings
from bot.conversations import Conversations
from bot.db import Database
from bot.i18n import Catalogues, _, ngettext
from bot.messages import ChatRef, Choice, Reply, command_prefix
from bot.outbox import Outbox
from bot.people import User
from bot.reminders.answers import ACK_KIND, MAX_ACK_OFFERS, ack_offers
from bot.reminders.formatting import clock_time, duration, moment
from bot.reminders.ids import digest, occurrence_token, short_id
from bot.reminders.models import Schedule
from bot.reminders.timing import recurrence_of
from bot.db import as_utc
from bot.when.recurrence import Firing, next_firings

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.directory.service import DirectoryService

log = logging.getLogger("coordbot.reminders")

BATCH = 200
MAX_FIRINGS_PER_SCHEDULE = 500
MISSED_LINES = 20
# What another feature adds to a delivered reminder, in the current language (meetings: the
# agenda and the open actions): (session, schedule, firing, time zone) -> lines.
ExtraLines = Callable[[AsyncSession, Schedule, Firing, str], Awaitable[list[str]]]
# A message for the outbox, and the numbered-answer offer to record if it is queued.
Outgoing = tuple[ChatRef, Reply, str, str, tuple[Schedule, Firing, Recipient] | None]


@dataclass
class _Run:
    """State of one pass over due schedules, inside one transaction."""

    session: AsyncSession
    now: datetime
    resolver: AudienceResolver
    missed: dict[int, list[tuple[Schedule, Firing]]] = field(
        default_factory=lambda: defaultdict(list))
    queued: int = 0
    outgoing: list[Outgoing] = field(default_factory=list)  # one bulk insert into the outbox


class Delivery:
    def __init__(self, *, settings: Settings, db: Database, clock: Clock, outbox: Outbox,
                 catalogues: Catalogues, conversations: Conversations,
                 directory: DirectoryService | None) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.outbox = outbox
        self.catalogues = catalogues
        self.conversations = conversations
        self.directory = directory
        self.extra_lines: list[ExtraLines] = []

    @property
    def grace(self) -> timedelta:
        return timedelta(hours=self.settings.reminders_grace_hours)

    @property
    def late_after(self) -> timedelta:
        return timedelta(seconds=self.settings.reminders_late_after_seconds)

    async def run_batch(self) -> tuple[int, int]:
        """Queues the messages of up to BATCH due schedules; returns (queued, schedules)."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            query = (select(Schedule).where(Schedule.active == True,  # noqa: E712
                                            Schedule.next_due <= now)
                     .order_by(Schedule.next_due, Schedule.id).limit(BATCH))
            if not self.db.is_sqlite:  # two bot processes never take the same schedule
                query = query.with_for_update(skip_locked=True)
            schedules = list(await session.scalars(query))
            run = _Run(session, now, AudienceResolver(session, self.directory))
            await run.resolver.prefetch([s.audience or [] for s in schedules],
                                        {s.owner_id for s in schedules})
            with session.no_autoflush:
                for schedule in schedules:
                    await self._advance(run, schedule)
            await self._queue(run)
            await self._tell_missed(run)
        if schedules:
            log.info("reminders due", extra={"fields": {"schedules": len(schedules),
                                                        "queued": run.queued}})
        return run.queued, len(schedules)

    async def _advance(self, run: _Run, schedule: Schedule) -> None:
        recurrence = recurrence_of(schedule)
        leads = schedule.leads_minutes or []
        due = as_utc(schedule.next_due) if schedule.next_due else None
        for _step in range(MAX_FIRINGS_PER_SCHEDULE):
            if due is None or due > run.now:
                break
            found = next_firings(recurrence, leads, due - timedelta(microseconds=1))
            if found is not None and found[0] == due:
                for firing in found[1]:
                    await self._fire(run, schedule, firing)
            found = next_firings(recurrence, leads, due)
            due = found[0] if found else None
        schedule.next_due = due
        schedule.active = due is not None

    async def _fire(self, run: _Run, schedule: Schedule, firing: Firing) -> None:
        if firing.lead and firing.occurrence <= run.now:
            return  # the occurrence itself is due too: its own message supersedes the early one
        lateness = run.now - firing.at
        if lateness > self.grace:
            run.missed[schedule.owner_id].append((schedule, firing))
            return
        late = lateness > self.late_after
        recipients, unreachable = await run.resolver.resolve(schedule.audience or [])
        owner_locale = await self._owner_locale(run, schedule.owner_id)
        for recipient in recipients:
            await self._queue_reminder(run, schedule, firing, recipient, late, owner_locale)
        if unreachable:
            log.info("reminder recipients without a chat", extra={"fields": {
                "schedule_id": schedule.id, "count": len(unreachable)}})

    async def _owner_locale(self, run: _Run, owner_id: int) -> str:
        owner = await run.session.get(User, owner_id)  # prefetched: no query
        return (owner.locale if owner else None) or self.settings.default_locale

    async def _queue_reminder(self, run: _Run, schedule: Schedule, firing: Firing,
                              recipient: Recipient, late: bool, owner_locale: str) -> None:
        locale = recipient.locale or owner_locale
        tz = recipient.timezone or schedule.timezone
        prefix = command_prefix(recipient.chat_key)
        with self.catalogues.use(locale):
            reply = render_reminder(schedule, firing, tz, late=late, now=run.now, prefix=prefix)
            for extra in self.extra_lines:
                lines = await extra(run.session, schedule, firing, tz)
                if lines:
                    reply = Reply("\n".join([reply.text, *lines]), reply.choices)
        lead = int(firing.lead.total_seconds() // 60)
        key = (f"rem:{schedule.id}:{occurrence_token(firing.occurrence)}:{lead}:"
               f"{digest(recipient.chat_key)}")
        offer = bool(reply.choices and recipient.is_direct and recipient.user_id is not None)
        run.outgoing.append((ChatRef.parse(recipient.chat_key), reply, key,
                             f"reminder:{schedule.id}", (schedule, firing, recipient) if offer
                             else None))

    async def _queue(self, run: _Run) -> None:
        """Writes the batch's messages to the outbox (same transaction as `next_due`); the
        unique keys make a second pass over the same occurrence queue nothing."""
        if not run.outgoing:
            return
        queued = await self.outbox.enqueue_many(
            run.session, [(chat, reply, key, source) for chat, reply, key, source, _o
                          in run.outgoing])
        run.queued += len(queued)
        for _chat, _reply, key, _source, offer in run.outgoing:
            if offer is not None and key in queued:
                await self._offer_numbered_answer(run, *offer)

    async def _offer_numbered_answer(self, run: _Run, schedule: Schedule, firing: Firing,
                                     recipient: Recipient) -> None:
        """On the console and Matrix people answer a choice by its number, or in words: a
        background prompt keeps the reminders waiting for an answer beside whatever else the
        person is answering (the router asks which one when both could take it)."""
        assert recipient.user_id is not None  # offered to people only (see _queue_reminder)
        pending = await self.conversations.current(run.session, recipient.chat_key,
                                                   recipient.user_id, kind=ACK_KIND)
        offers = [o for o in ack_offers(pending) if o["schedule_id"] != schedule.id]
        offers = offers[-(MAX_ACK_OFFERS - 1):] + [
            {"schedule_id": schedule.id, "kind": schedule.kind,
             "occurrence": occurrence_token(firing.occurrence)}]
        await self.conversations.start(run.session, recipient.chat_key, recipient.user_id,
                                       ACK_KIND, {"offers": offers}, ttl=timedelta(days=1),
                                       background=True)

    async def _tell_missed(self, run: _Run) -> None:
        """One message per owner listing what was too late to send: never dropped silently."""
        for owner_id, items in run.missed.items():
            owner = await run.session.get(User, owner_id)
            if owner is None:
                continue
            recipient = await run.resolver.direct(owner)
            chat_key = recipient.chat_key if recipient else items[0][0].origin_chat
            with self.catalogues.use(owner.locale or self.settings.default_locale):
                text = self._missed_text(owner, items)
            key_source = "|".join(f"{s.id}:{occurrence_token(f.occurrence)}:{f.lead}"
                                  for s, f in items)
            await self.outbox.enqueue(run.session, ChatRef.parse(chat_key), Reply(text),
                                      f"rem:missed:{owner_id}:{digest(key_source)}",
                                      source="reminders:missed")
            log.warning("reminders missed while offline", extra={"fields": {
                "owner_id": owner_id, "count": len(items)}})

    def _missed_text(self, owner: User, items: list[tuple[Schedule, Firing]]) -> str:
        lines = [_("While I was offline, these reminders became more than {hours} hours "
                   "late and were not sent:").format(hours=self.settings.reminders_grace_hours)]
        for schedule, firing in items[:MISSED_LINES]:
            lines.append(f"• {short_id(schedule.id)} {schedule.title} — "
                         f"{moment(firing.at, owner.timezone or schedule.timezone)}")
        if len(items) > MISSED_LINES:
            more = len(items) - MISSED_LINES
            lines.append(ngettext("… and {n} more.", "… and {n} more.", more).format(n=more))
        return "\n".join(lines)


def render_reminder(schedule: Schedule, firing: Firing, tz: str, *, late: bool,
                    now: datetime, prefix: str = "/") -> Reply:
    """The delivered reminder, in the current language: the text first, then when."""
    first = schedule.message
    if late:
        first += " " + _("(late: due at {time})").format(time=clock_time(firing.at, tz, now))
    lines = [first]
    if firing.lead:
        lines.append(_("Coming up in {delay}: {when}.").format(
            delay=duration(firing.lead), when=moment(firing.occurrence, tz)))
    elif schedule.kind == "meeting":
        lines.append(_("Meeting: {when}.").format(when=moment(firing.occurrence, tz)))
    elif schedule.kind == "deadline":
        lines.append(_("Deadline: {when}.").format(when=moment(firing.occurrence, tz)))
    ack = f"/ack {short_id(schedule.id)} {occurrence_token(firing.occurrence)}"
    choices = []
    if schedule.kind == "meeting":
        choices = [Choice(_("I'll attend"), f"{ack} yes"),
                   Choice(_("Can't attend"), f"{ack} no")]
        # The short form works at any time, beside any other question pending.
        lines.append(_("To answer later: {prefix}ack {id} yes or {prefix}ack {id} no.").format(
            prefix=prefix, id=short_id(schedule.id)))
    elif schedule.kind == "deadline":
        choices = [Choice(_("Done"), f"{ack} done")]
        lines.append(_("When it is done: {prefix}ack {id} done.").format(
            prefix=prefix, id=short_id(schedule.id)))
    return Reply("\n".join(lines), choices)
