"""The reminders service: saving schedules, delivering what is due, acknowledgements and
broadcasts.

Delivery is exactly-once per (schedule, occurrence, lead time, chat) up to the outbox: every
due message is written to the outbox in the same transaction that moves `next_due` forward,
with an idempotency key built from those four parts, so a crash either keeps both or neither
and a restart can never queue a message twice. The scheduler only decides *when* to look:
one date job at the earliest `next_due` plus a safety tick, both derived from the database at
start-up with stable ids."""
from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.audience import BLOCKED, NO_DIRECT_CHAT, AudienceResolver, Recipient
from bot.i18n import N_, _, ngettext
from bot.messages import ChatRef, Choice, Reply, command_prefix
from bot.outbox import FAILED, PENDING, SENT, OutboxMessage
from bot.people import Identity, User
from bot.policy import allowed
from bot.reminders.formatting import clock_time, duration, moment
from bot.reminders.models import Acknowledgement, Broadcast, Schedule
from bot.reminders.privacy import ERASED, report_key
from bot.reminders.privacy import register as register_privacy
from bot.when.recurrence import (Firing, Recurrence, as_utc, format_local, next_firings,
                                      parse_local)
from bot.when import When

log = logging.getLogger("coordbot.reminders")

JOB_NEXT, JOB_TICK, JOB_WAKE = "reminders.next", "reminders.tick", "reminders.wake"
BATCH = 200
MAX_BATCHES = 50
MAX_FIRINGS_PER_SCHEDULE = 500
MISSED_LINES = 20
OUTBOX_PASS = 500
ACK_ANSWERS = {"yes": N_("will attend"), "no": N_("cannot attend"), "done": N_("done")}


def ack_count(answer: str, n: int) -> str:
    """"3 will attend", for the answers to a meeting or deadline (verbs agree with n)."""
    if answer == "yes":
        return ngettext("{n} will attend", "{n} will attend", n).format(n=n)
    if answer == "no":
        return ngettext("{n} cannot attend", "{n} cannot attend", n).format(n=n)
    return ngettext("{n} done", "{n} done", n).format(n=n)
ACK_KIND = "reminders.ack"
ACK_OCCURRENCES_LOOKED_AT = 50
MAX_ACK_OFFERS = 10
AUDIENCE_KINDS = {"all", "user", "chat", "role", "org", "area"}
UNREACHABLE_LINES = {
    NO_DIRECT_CHAT: N_("• {name}: has never written to me, so I cannot reach them."),
    BLOCKED: N_("• {name}: unreachable (blocked the bot)."),
}


def short_id(schedule_id: int) -> str:
    return f"R{schedule_id}"


def parse_short_id(text: str) -> int | None:
    """`R12`, `r12`, `#12` and `12` all name reminder 12."""
    return parse_letter_id(text, "R")


def parse_letter_id(text: str, letter: str) -> int | None:
    """The number of a short id such as `R12` or `A7`, its letter and a `#` optional."""
    word = text.strip().lstrip("#").upper().removeprefix(letter)
    return int(word) if word.isdecimal() and len(word) < 10 else None


def occurrence_token(instant: datetime) -> str:
    return as_utc(instant).strftime("%Y%m%dT%H%M%SZ")


def parse_occurrence_token(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def ack_offers(pending) -> list[dict]:
    """The reminders a background prompt waits answers for (one per row before several
    could wait)."""
    if pending is None:
        return []
    payload = pending.payload or {}
    if "schedule_id" in payload:
        return [{key: payload[key] for key in ("schedule_id", "kind", "occurrence")}]
    return list(payload.get("offers", []))


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


@dataclass
class _Run:
    """State of one pass over due schedules, inside one transaction."""

    session: AsyncSession
    now: datetime
    resolver: AudienceResolver
    missed: dict[int, list[tuple[Schedule, Firing]]] = field(
        default_factory=lambda: defaultdict(list))
    queued: int = 0
    # (chat, reply, key, source, ack offer) collected for one bulk insert into the outbox.
    outgoing: list[tuple] = field(default_factory=list)


class RemindersService:
    def __init__(self, services: Any):
        self.services = services
        self.settings = services.settings
        self.db = services.db
        self.clock = services.clock
        self.outbox = services.outbox
        self.catalogues = services.catalogues
        self._lock = asyncio.Lock()
        # Other features add to what reminders show, without reminders knowing them (meetings:
        # the agenda and open actions in a meeting's reminder, actions as VTODO in /calendar).
        # extra_lines: async (session, schedule, firing, tz) -> lines, in the current language.
        self.extra_lines: list = []
        # calendar_extras: async (session, user, schedules) -> items for calendar_ics `todos`.
        self.calendar_extras: list = []

    # --- schedules ------------------------------------------------------------------------

    @property
    def grace(self) -> timedelta:
        return timedelta(hours=self.settings.reminders_grace_hours)

    @property
    def late_after(self) -> timedelta:
        return timedelta(seconds=self.settings.reminders_late_after_seconds)

    def recurrence(self, schedule: Schedule) -> Recurrence:
        return Recurrence(parse_local(schedule.start_local), schedule.timezone, schedule.rrule,
                          frozenset(parse_local(x) for x in schedule.exdates or []),
                          bool(schedule.skip_holidays))

    def upcoming(self, schedule: Schedule, count: int = 3) -> list[datetime]:
        return self.recurrence(schedule).next_occurrences(self.clock.now(), count)

    def _set_next_due(self, schedule: Schedule, after: datetime) -> None:
        found = next_firings(self.recurrence(schedule), schedule.leads_minutes or [], after)
        schedule.next_due = found[0] if found else None
        schedule.active = found is not None

    async def create(self, session: AsyncSession, *, kind: str, message: str, when: When,
                     audience: list[str], owner: User, origin_chat: str) -> Schedule:
        schedule = Schedule(
            kind=kind, title=_title(message), message=message, timezone=when.timezone,
            start_local=format_local(when.start_local), rrule=when.rrule,
            leads_minutes=list(when.leads_minutes), audience=list(audience), owner_id=owner.id,
            origin_chat=origin_chat, exdates=[], skip_holidays=when.skip_holidays, active=True,
            created_at=self.clock.now())
        self._set_next_due(schedule, self.clock.now())
        session.add(schedule)
        await session.flush()
        log.info("reminder created", extra={"fields": {"schedule_id": schedule.id,
                                                       "kind": kind, "recurring": bool(when.rrule)}})
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
        self._set_next_due(schedule, self.clock.now())
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
        self._set_next_due(schedule, self.clock.now())
        await session.flush()
        return skipped, upcoming[1] if len(upcoming) > 1 else None

    # --- delivery -------------------------------------------------------------------------

    async def run_due(self) -> int:
        """Queues every due message, sends the outbox, plans the next wake-up. Returns how
        many messages were queued. Safe to call at any time, from any number of triggers."""
        async with self._lock:
            queued = 0
            for _batch in range(MAX_BATCHES):
                count, found = await self._run_batch()
                queued += count
                if count:  # send this batch before computing the next one
                    await self._send_outbox()
                if found < BATCH:
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

    async def _run_batch(self) -> tuple[int, int]:
        now = self.clock.now()
        async with self.db.transaction() as session:
            query = (select(Schedule).where(Schedule.active == True,  # noqa: E712
                                            Schedule.next_due <= now)
                     .order_by(Schedule.next_due, Schedule.id).limit(BATCH))
            if not self.db.is_sqlite:  # two bot processes never take the same schedule
                query = query.with_for_update(skip_locked=True)
            schedules = list(await session.scalars(query))
            run = _Run(session, now, AudienceResolver(session, self.services.directory))
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
        recurrence = self.recurrence(schedule)
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
            reply = self.render(schedule, firing, tz, late=late, now=run.now, prefix=prefix)
            for extra in self.extra_lines:
                lines = await extra(run.session, schedule, firing, tz)
                if lines:
                    reply = Reply("\n".join([reply.text, *lines]), reply.choices)
        lead = int(firing.lead.total_seconds() // 60)
        key = (f"rem:{schedule.id}:{occurrence_token(firing.occurrence)}:{lead}:"
               f"{_digest(recipient.chat_key)}")
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

    def render(self, schedule: Schedule, firing: Firing, tz: str, *, late: bool,
               now: datetime, prefix: str = "/") -> Reply:
        """The delivered reminder, in the current language: the text first, then when."""
        first = schedule.message
        if late:
            first += " " + _("(late: due at {time})").format(
                time=clock_time(firing.at, tz, now))
        lines = [first]
        if firing.lead:
            lines.append(_("Coming up in {delay}: {when}.").format(
                delay=duration(firing.lead), when=moment(firing.occurrence, tz)))
        elif schedule.kind == "meeting":
            lines.append(_("Meeting: {when}.").format(when=moment(firing.occurrence, tz)))
        elif schedule.kind == "deadline":
            lines.append(_("Deadline: {when}.").format(when=moment(firing.occurrence, tz)))
        token = occurrence_token(firing.occurrence)
        ack = f"/ack {short_id(schedule.id)} {token}"
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

    async def _offer_numbered_answer(self, run: _Run, schedule: Schedule, firing: Firing,
                                     recipient: Recipient) -> None:
        """On the console and Matrix people answer a choice by its number, or in words: a
        background prompt keeps the reminders waiting for an answer beside whatever else the
        person is answering (the router asks which one when both could take it)."""
        conversations = self.services.conversations
        pending = await conversations.current(run.session, recipient.chat_key, recipient.user_id,
                                              kind=ACK_KIND)
        offers = [o for o in ack_offers(pending) if o["schedule_id"] != schedule.id]
        offers = offers[-(MAX_ACK_OFFERS - 1):] + [
            {"schedule_id": schedule.id, "kind": schedule.kind,
             "occurrence": occurrence_token(firing.occurrence)}]
        await conversations.start(run.session, recipient.chat_key, recipient.user_id, ACK_KIND,
                                  {"offers": offers}, ttl=timedelta(days=1), background=True)

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

    async def _tell_missed(self, run: _Run) -> None:
        """One message per owner listing what was too late to send: never dropped silently."""
        for owner_id, items in run.missed.items():
            owner = await run.session.get(User, owner_id)
            if owner is None:
                continue
            recipient = await run.resolver.direct(owner)
            chat_key = recipient.chat_key if recipient else items[0][0].origin_chat
            with self.catalogues.use(owner.locale or self.settings.default_locale):
                lines = [_("While I was offline, these reminders became more than {hours} hours "
                           "late and were not sent:").format(hours=self.settings.reminders_grace_hours)]
                for schedule, firing in items[:MISSED_LINES]:
                    lines.append(f"• {short_id(schedule.id)} {schedule.title} — "
                                 f"{moment(firing.at, owner.timezone or schedule.timezone)}")
                if len(items) > MISSED_LINES:
                    more = len(items) - MISSED_LINES
                    lines.append(ngettext("… and {n} more.", "… and {n} more.", more).format(n=more))
            key_source = "|".join(f"{s.id}:{occurrence_token(f.occurrence)}:{f.lead}"
                                  for s, f in items)
            await self.outbox.enqueue(run.session, ChatRef.parse(chat_key),
                                      Reply("\n".join(lines)),
                                      f"rem:missed:{owner_id}:{_digest(key_source)}",
                                      source="reminders:missed")
            log.warning("reminders missed while offline", extra={"fields": {
                "owner_id": owner_id, "count": len(items)}})

    # --- scheduler ------------------------------------------------------------------------

    async def start_jobs(self, services: Any = None) -> None:
        """Start-up hook: derives the jobs from the database. Stable ids and
        `replace_existing` mean a restart replaces rather than duplicates them."""
        scheduler = self.services.scheduler
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
        scheduler = self.services.scheduler
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
        scheduler.add_job(self.run_due, "date", run_date=_scheduler_time(run_at, self.clock),
                          id=JOB_NEXT, replace_existing=True, misfire_grace_time=None,
                          max_instances=5)
        return due

    async def wake(self) -> None:
        """After a change (a new schedule, a confirmed broadcast): run the due work right
        after the current reply went out, and move the date job if needed."""
        scheduler = self.services.scheduler
        if scheduler is None or not scheduler.running:
            await self.run_due()  # tests and tools without a running scheduler
            return
        scheduler.add_job(self.run_due, "date",
                          run_date=datetime.now(timezone.utc) + timedelta(milliseconds=100),
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
        (bot/audience.py) delivers with, without resolving everyone it reaches: `a&b`
        narrows, so every part must reach them."""
        if "&" in token:
            return all(self._addresses(part, user, own_chats) for part in token.split("&"))
        kind, _sep, value = token.partition(":")
        if kind == "area":
            directory = self.services.directory
            entry = directory.home_entry(user.entry_id, user.organisation_id) \
                if directory is not None else None
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
        return recurrence.start_local.replace(tzinfo=timezone.utc) - timedelta(days=1)

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

    # --- broadcasts -----------------------------------------------------------------------

    async def broadcast_recipients(self, session: AsyncSession, tokens: list[str]):
        return await AudienceResolver(session, self.services.directory).resolve(tokens)

    async def create_broadcast(self, session: AsyncSession, sender: User, sender_chat: str,
                               text: str, tokens: list[str]) -> tuple[Broadcast, int]:
        recipients, unreachable = await AudienceResolver(
            session, self.services.directory).resolve(tokens)
        broadcast = Broadcast(sender_id=sender.id, sender_chat=sender_chat, text=text,
                              audience=list(tokens), created_at=self.clock.now(),
                              unreachable=[{"name": u.name, "reason": u.reason}
                                           for u in unreachable])
        session.add(broadcast)
        await session.flush()
        for recipient in recipients:
            with self.catalogues.use(recipient.locale or sender.locale
                                     or self.settings.default_locale):
                body = _("Message from {name}:").format(name=sender.display_name) + "\n" + text
            await self.outbox.enqueue(session, ChatRef.parse(recipient.chat_key), Reply(body),
                                      f"bc:{broadcast.id}:{_digest(recipient.chat_key)}",
                                      source=f"broadcast:{broadcast.id}")
        log.info("broadcast queued", extra={"fields": {"broadcast_id": broadcast.id,
                                                       "chats": len(recipients),
                                                       "unreachable": len(unreachable)}})
        return broadcast, len(recipients)

    async def report_broadcasts(self) -> int:
        """Queues a delivery report to the sender of every broadcast whose messages are all
        settled (sent or failed for good). Returns how many reports were queued."""
        reported = 0
        async with self.db.transaction() as session:
            open_ids = list(await session.scalars(select(Broadcast.id).where(
                Broadcast.reported_at.is_(None)).order_by(Broadcast.id).limit(50)))
            for broadcast_id in open_ids:
                reported += await self._report(session, await session.get(Broadcast, broadcast_id))
        return reported

    async def _report(self, session: AsyncSession, broadcast: Broadcast) -> int:
        statuses = await session.scalars(select(OutboxMessage.status).where(
            OutboxMessage.source == f"broadcast:{broadcast.id}"))
        if PENDING in set(statuses):
            return 0
        if broadcast.sender_chat:  # empty once the sender erased their data: nobody to tell
            await self.outbox.enqueue(session, ChatRef.parse(broadcast.sender_chat),
                                      await self.report_reply(session, broadcast),
                                      report_key(broadcast.id), source="broadcast-report")
        broadcast.reported_at = self.clock.now()
        return 1

    async def report_reply(self, session: AsyncSession, broadcast: Broadcast,
                           hidden_chats: frozenset[str] = frozenset()) -> Reply:
        """The delivery report, in the sender's language; `hidden_chats` (the direct chats of
        a person being erased) are shown as "—"."""
        rows = list(await session.execute(select(
            OutboxMessage.chat_key, OutboxMessage.status, OutboxMessage.last_error).where(
                OutboxMessage.source == f"broadcast:{broadcast.id}")))
        sender = await session.get(User, broadcast.sender_id)
        sent = sum(1 for _key, status, _error in rows if status == SENT)
        failures = [(ERASED if key in hidden_chats else key, error or "?")
                    for key, status, error in rows if status == FAILED]
        with self.catalogues.use((sender.locale if sender else None)
                                 or self.settings.default_locale):
            failed = len(failures) + len(broadcast.unreachable or [])
            lines = [_("Broadcast B{id}: {sent}, {failed}.").format(
                id=broadcast.id, sent=ngettext("{n} sent", "{n} sent", sent).format(n=sent),
                failed=ngettext("{n} failed", "{n} failed", failed).format(n=failed))]
            lines += [f"• {key}: {error}" for key, error in failures[:MISSED_LINES]]
            lines += [_(UNREACHABLE_LINES.get(item.get("reason"), UNREACHABLE_LINES[
                NO_DIRECT_CHAT])).format(name=item["name"])
                for item in (broadcast.unreachable or [])[:MISSED_LINES]]
        return Reply("\n".join(lines))


def _title(message: str) -> str:
    first = message.strip().splitlines()[0] if message.strip() else ""
    return first[:80] + ("…" if len(first) > 80 else "")


def _scheduler_time(instant: datetime, clock) -> datetime:
    """The scheduler runs on the real clock; a test or demo clock may be offset from it."""
    real_now = datetime.now(timezone.utc)
    return instant - clock.now() + real_now


def build(services: Any) -> RemindersService:
    """Composition: `services.reminders = build_reminders(services)` in bot/bootstrap.py."""
    service = RemindersService(services)
    services.startup_hooks.append(service.start_jobs)
    if services.trust is not None:
        register_privacy(services.trust.privacy, service)
    # The date job is re-placed after every change; APScheduler would log each at INFO.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    return service
