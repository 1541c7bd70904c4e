"""The check-in service: forms, rounds, who is asked, answers, nudges, summaries, retention.

Everything the bot sends on its own (questions at opening, nudges, the closing summary) goes
through the outbox inside the transaction that decided it, with idempotency keys, so a crash
or a restart never sends twice nor loses a message. `run_due()` does all time-driven work and
is what the scheduler calls every minute; tests call it with a FakeClock."""
from __future__ import annotations

import asyncio
import copy
import hashlib
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.audience import AudienceResolver
from bot.checkins import summary as summaries
from bot.checkins import texts
from bot.checkins.forms import Form, FormError, form_files, load_form
from bot.checkins.models import (ANSWERING, CLOSED, OPEN, SCHEDULED, SUBMITTED, WAITING,
                                 CheckinAbsence, CheckinAssignment, CheckinForm, CheckinRound,
                                 aware)
from bot.checkins.privacy import register as register_privacy
from bot.conversations import PendingConversation
from bot.i18n import _
from bot.messages import ChatRef, Reply
from bot.outbox import OutboxMessage
from bot.people import Identity, User
from bot.policy import Role
from bot.when import END_OF_DAY, WhenError, parse_moment, parse_span

log = logging.getLogger("coordbot.checkins")

CONVERSATION_KIND = "checkins.answer"
# Provinces and the German-speaking Community inside the regions, so that `area:BE-WAL`
# reaches a focal point whose last answer placed them in Liège province.
AREA_PARENTS = {
    "BE-VAN": "BE-VLG", "BE-VLI": "BE-VLG", "BE-VOV": "BE-VLG", "BE-VBR": "BE-VLG",
    "BE-VWV": "BE-VLG", "BE-WBR": "BE-WAL", "BE-WHT": "BE-WAL", "BE-WLG": "BE-WAL",
    "BE-WLX": "BE-WAL", "BE-WNA": "BE-WAL", "DG": "BE-WLG",
}
MAX_PAUSE_DAYS = 60
MAX_ROUND = timedelta(days=92)
# A round whose opening is a date without a time opens that morning, not at midnight.
OPENING_TIME = time(9, 0)
MAX_ABSENCE_DAYS = 366


@dataclass
class Recipient:
    user: User
    chat_key: str | None


def area_contains(area: str, code: str | None) -> bool:
    seen = 0
    while code and seen < 5:
        if code == area or (area == "BE"):
            return True
        code, seen = AREA_PARENTS.get(code), seen + 1
    return False


class CheckinsService:
    def __init__(self, db, outbox, clock, settings, catalogues, people, conversations,
                 directory=None):
        self.db = db
        # The directory service places people in areas (`area:` audiences, regions); None
        # when the directory is not available.
        self.directory = directory
        self.outbox = outbox
        self.clock = clock
        self.settings = settings
        self.catalogues = catalogues
        self.people = people
        self.conversations = conversations
        self._forms: dict[tuple[int, str], Form] = {}
        self._holidays: dict[int, Any] = {}

    # ----- forms -------------------------------------------------------------------------

    def form_of(self, round_: CheckinRound) -> Form:
        """The round's frozen form, parsed once per process."""
        key = (round_.id, round_.definition.get("settings", {}).get("version", ""))
        if key not in self._forms:
            self._forms[key] = Form.from_dict(round_.definition)
        return self._forms[key]

    def form_of_row(self, row: CheckinForm) -> Form:
        key = (-row.id, row.source_hash + row.version + str(row.updated_at))
        if key not in self._forms:
            self._forms[key] = Form.from_dict(row.definition)
        return self._forms[key]

    async def forms(self, session: AsyncSession) -> list[CheckinForm]:
        return list(await session.scalars(select(CheckinForm).order_by(CheckinForm.code)))

    async def form_row(self, session: AsyncSession, code: str) -> CheckinForm | None:
        return await session.scalar(select(CheckinForm).where(
            func.lower(CheckinForm.code) == code.strip().lower()))

    async def save_form(self, session: AsyncSession, form: Form, source: str,
                        source_hash: str = "") -> tuple[CheckinForm, bool]:
        """Adds the form or replaces the definition of the form with the same code (rounds
        already opened keep the definition they were opened with). Returns (row, created)."""
        row = await self.form_row(session, form.code)
        created = row is None
        if row is None:
            row = CheckinForm(code=form.code)
            session.add(row)
        row.definition, row.version = form.to_dict(), form.version[:60]
        row.source, row.source_hash = source[-200:], source_hash
        row.updated_at = self.clock.now()
        await session.flush()
        return row, created

    async def load_folder(self, folder: Path | None) -> int:
        """Loads the forms shipped in `folder`; unchanged files are skipped by hash. A broken
        file is logged and skipped: one bad form must not stop the bot."""
        loaded = 0
        for path in form_files(folder):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            async with self.db.transaction() as session:
                known = await session.scalar(select(CheckinForm.id).where(
                    CheckinForm.source_hash == digest))
                if known is not None:
                    continue
                try:
                    form = await asyncio.to_thread(load_form, path)
                except FormError as exc:
                    log.warning("form not loaded", extra={"fields": {"file": path.name,
                                                                      "error": str(exc)[:200]}})
                    continue
                await self.save_form(session, form, path.name, digest)
                loaded += 1
        return loaded

    # ----- audiences ---------------------------------------------------------------------

    async def resolve_audience(self, session: AsyncSession, audience: str,
                               platform: str = "console") -> list[Recipient]:
        """The people a round's stored audience asks (tokens of bot/audience.py joined by
        commas; rounds stored before it may hold `@user` items). Only focal points and above
        are asked."""
        tokens = []
        for item in [part.strip() for part in audience.split(",") if part.strip()]:
            if item.startswith("@") or item.partition(":")[0] in {"console", "telegram",
                                                                   "matrix"}:
                user = await self.people.find(session, item, platform)
                item = f"user:{user.id}" if user is not None else ""
            tokens.append(item)
        resolver = AudienceResolver(session, self.directory,
                                    lambda area, placed: self._unplaced_in(session, area, placed))
        users = {user.id: user for user in await resolver.people(tokens)
                 if user.role >= Role.FOCAL_POINT}
        chats = await self._direct_chats(session, list(users))
        return [Recipient(user, chats.get(user_id)) for user_id, user in sorted(users.items())]

    async def _unplaced_in(self, session: AsyncSession, area: str, placed: set[int]) -> set[int]:
        """People the directory does not place count by the region of their latest answer."""
        return {user_id for user_id, region in (await self.known_regions(session)).items()
                if user_id not in placed and self._region_within(region, area)}

    def _region_within(self, region: str, area: str) -> bool:
        if self.directory is not None and self.directory.area_code(region) is not None:
            return self.directory.area_within(region, area)
        return area_contains(area.upper(), region)

    async def regions_of(self, session: AsyncSession, form: Form,
                         users: list[User]) -> dict[int, str]:
        """Each person's region for the per-region breakdown, as one of the form's region
        choices: the most local choice their directory entry lies in, else the region of their
        latest answer. (A person's answer in the round itself comes first; see summary.py.)"""
        regions = await self.known_regions(session, [user.id for user in users])
        question = form.region_question
        if self.directory is None or question is None:
            return regions
        choices = [option.name for option in question.options]
        for user in users:
            entry = self.directory.home_entry(user.entry_id, user.organisation_id)
            found = self.directory.entry_area(entry, choices) if entry else None
            if found is not None:
                regions[user.id] = found
        return regions

    async def _direct_chats(self, session: AsyncSession, user_ids: list[int]) -> dict[int, str]:
        chats: dict[int, str] = {}
        for start in range(0, len(user_ids), 500):
            rows = await session.execute(
                select(Identity.user_id, Identity.platform, Identity.direct_chat_id)
                .where(Identity.user_id.in_(user_ids[start:start + 500]),
                       Identity.direct_chat_id.is_not(None))
                .order_by(Identity.id))
            for user_id, platform, chat_id in rows:
                chats.setdefault(user_id, ChatRef(platform, chat_id).key())
        return chats

    async def known_regions(self, session: AsyncSession,
                            user_ids: list[int] | None = None) -> dict[int, str]:
        """Each person's region as given in their latest submitted answer (a form's region
        question), for `area:` audiences and per-region counts of non-responders."""
        query = (select(CheckinAssignment.user_id, CheckinAssignment.region)
                 .where(CheckinAssignment.region.is_not(None))
                 .order_by(CheckinAssignment.submitted_at))
        if user_ids is not None:
            query = query.where(CheckinAssignment.user_id.in_(user_ids))
        return {user_id: region for user_id, region in await session.execute(query)}

    # ----- rounds ------------------------------------------------------------------------

    def round_times(self, deadline_text: str, opens_text: str, tz: ZoneInfo,
                    now: datetime) -> tuple[datetime, datetime]:
        """(opening, deadline) of a new round from what the coordinator wrote, read by the
        bot's one time parser; a date alone is 23:59 for a deadline. Raises `WhenError`."""
        opens = now
        if opens_text.strip():
            try:
                opens = max(now, parse_moment(opens_text, str(tz), now,
                                              default_time=OPENING_TIME, allow_past=True))
            except WhenError as problem:
                raise WhenError(_("For the opening time: {problem}").format(
                    problem=problem)) from None
        try:
            deadline = parse_moment(deadline_text, str(tz), now, default_time=END_OF_DAY)
        except WhenError as problem:
            raise WhenError(_("For the deadline: {problem}").format(problem=problem)) from None
        if deadline <= opens:
            raise WhenError(_("The deadline ({deadline}) must be after the opening time "
                              "({opens}).").format(deadline=texts.when(deadline, tz),
                                                   opens=texts.when(opens, tz)))
        if deadline - opens > MAX_ROUND:
            raise WhenError(_("A round lasts at most three months; I read the deadline as "
                              "{deadline}.").format(deadline=texts.when(deadline, tz)))
        return opens, deadline

    def nudge_times(self, opens_at: datetime, deadline: datetime) -> list[datetime]:
        times = []
        if self.settings.checkins_nudge_halfway:
            times.append(opens_at + (deadline - opens_at) / 2)
        before = self.settings.checkins_nudge_hours_before
        if before:
            times.append(deadline - timedelta(hours=before))
        times = sorted(t for t in times if opens_at < t < deadline)
        deduplicated: list[datetime] = []
        for moment in times:
            if not deduplicated or moment - deduplicated[-1] > timedelta(hours=1):
                deduplicated.append(moment)
        return deduplicated

    async def create_round(self, session: AsyncSession, form_row: CheckinForm, *,
                           opens_at: datetime, deadline: datetime, audience: str,
                           report_chat: str | None, created_by: int | None) -> CheckinRound:
        number = (await session.scalar(select(func.max(CheckinRound.number)).where(
            CheckinRound.form_id == form_row.id)) or 0) + 1
        round_ = CheckinRound(
            form_id=form_row.id, number=number, definition=copy.deepcopy(form_row.definition),
            opens_at=opens_at, deadline=deadline, audience=audience[:500],
            report_chat=report_chat,
            nudge_times=[t.isoformat() for t in self.nudge_times(opens_at, deadline)],
            status=SCHEDULED, created_by=created_by, created_at=self.clock.now())
        session.add(round_)
        await session.flush()
        log.info("round created", extra={"fields": {"round_id": round_.id, "form": form_row.code}})
        return round_

    async def rounds_of(self, session: AsyncSession, form_row: CheckinForm,
                        limit: int = 20) -> list[CheckinRound]:
        return list(await session.scalars(
            select(CheckinRound).where(CheckinRound.form_id == form_row.id)
            .order_by(CheckinRound.number.desc()).limit(limit)))

    async def round_by_number(self, session: AsyncSession, form_row: CheckinForm,
                              number: int | None) -> CheckinRound | None:
        query = select(CheckinRound).where(CheckinRound.form_id == form_row.id,
                                           CheckinRound.status != SCHEDULED)
        if number is not None:
            query = select(CheckinRound).where(CheckinRound.form_id == form_row.id,
                                               CheckinRound.number == number)
        return await session.scalar(query.order_by(CheckinRound.number.desc()).limit(1))

    async def recent_rounds(self, session: AsyncSession, limit: int = 20) -> list[
            tuple[CheckinRound, str]]:
        rows = await session.execute(
            select(CheckinRound, CheckinForm.code).join(CheckinForm)
            .order_by(CheckinRound.opens_at.desc()).limit(limit))
        return [(round_, code) for round_, code in rows]

    async def open_round(self, session: AsyncSession, round_: CheckinRound) -> int:
        """Asks everyone in the audience, in their direct chat and language. Returns how many
        were asked. Idempotent: assignments are unique per (round, person) and messages are
        keyed."""
        form = self.form_of(round_)
        recipients = await self.resolve_audience(session, round_.audience)
        now = self.clock.now()
        existing = set(await session.scalars(select(CheckinAssignment.user_id).where(
            CheckinAssignment.round_id == round_.id)))
        recipients = [r for r in recipients if r.user.id not in existing]
        busy = await self._busy_chats(session, [r.user.id for r in recipients])
        expires = aware(round_.deadline) + timedelta(days=self.settings.checkins_late_days)
        first = first_question(form, {})
        starting = {r.user.id for r in recipients
                    if r.chat_key is not None and (r.user.id, r.chat_key) not in busy}
        # Core bulk inserts: a round may open for thousands of people in one transaction.
        if recipients:
            await session.execute(insert(CheckinAssignment), [{
                "round_id": round_.id, "user_id": r.user.id, "chat_key": r.chat_key,
                "status": ANSWERING if r.user.id in starting else WAITING, "answers": None,
                "draft": {}, "current": first if r.user.id in starting else 0,
                "confirming": False, "late": False, "nudges_done": 0, "nudges_sent": 0}
                for r in recipients])
        ids = dict((await session.execute(
            select(CheckinAssignment.user_id, CheckinAssignment.id)
            .where(CheckinAssignment.round_id == round_.id))).all())
        conversations, messages, rendered = [], [], {}
        for recipient in recipients:
            if recipient.chat_key is None:
                continue
            start_now = recipient.user.id in starting
            if start_now:
                conversations.append({
                    "chat_key": recipient.chat_key, "user_id": recipient.user.id,
                    "kind": CONVERSATION_KIND, "payload": {"assignment": ids[recipient.user.id]},
                    "created_at": now, "expires_at": expires})
            # Same language, time zone, platform and start: same text (thousands of people).
            variant = (self.locale_of(recipient.user), recipient.user.timezone,
                       texts.prefix_for(recipient.chat_key), start_now)
            if variant not in rendered:
                with self.catalogues.use(variant[0]):
                    rendered[variant] = texts.invitation(form, round_, first, recipient.chat_key,
                                                         self.tz_of(recipient.user), start_now)
            reply = rendered[variant]
            messages.append((ChatRef.parse(recipient.chat_key), reply,
                             f"checkins:ask:{round_.id}:{recipient.user.id}",
                             f"checkins:{round_.id}"))
        if conversations:
            await session.execute(insert(PendingConversation), conversations)
        asked = len(await self.outbox.enqueue_many(session, messages))
        round_.status = OPEN
        await session.flush()
        log.info("round opened", extra={"fields": {"round_id": round_.id, "asked": asked,
                                                    "audience": len(recipients)}})
        return asked

    async def _busy_chats(self, session: AsyncSession, user_ids: list[int]) -> set[tuple[int, str]]:
        """(user, chat) pairs with a conversation pending: we do not take it over. A reminder
        waiting for an answer (a background prompt) does not count: both can be answered."""
        busy: set[tuple[int, str]] = set()
        now = self.clock.now()
        for start in range(0, len(user_ids), 500):
            rows = await session.execute(
                select(PendingConversation.user_id, PendingConversation.chat_key,
                       PendingConversation.expires_at)
                .where(PendingConversation.user_id.in_(user_ids[start:start + 500]),
                       PendingConversation.background == False))  # noqa: E712
            busy.update((uid, key) for uid, key, expires in rows
                        if expires is None or aware(expires) > now)
        return busy

    def locale_of(self, user: User) -> str:
        return user.locale or self.settings.default_locale

    def tz_of(self, user: User | None) -> ZoneInfo:
        try:
            return ZoneInfo((user.timezone if user else None) or self.settings.timezone)
        except (ValueError, KeyError):
            return ZoneInfo("Europe/Brussels")

    # ----- answering ---------------------------------------------------------------------

    def answerable(self, round_: CheckinRound) -> bool:
        """Open rounds, and closed ones for late answers during the late period."""
        if round_.reduced_at is not None or round_.status == SCHEDULED:
            return False
        limit = aware(round_.deadline) + timedelta(days=self.settings.checkins_late_days)
        return self.clock.now() < limit

    def editable(self, round_: CheckinRound) -> bool:
        return round_.status == OPEN and self.clock.now() < aware(round_.deadline)

    async def assignment(self, session: AsyncSession, assignment_id: int) -> tuple[
            CheckinAssignment, CheckinRound] | None:
        row = (await session.execute(
            select(CheckinAssignment, CheckinRound).join(CheckinRound)
            .where(CheckinAssignment.id == assignment_id))).first()
        return (row[0], row[1]) if row else None

    async def assignments_of(self, session: AsyncSession, user_id: int) -> list[
            tuple[CheckinAssignment, CheckinRound, str]]:
        rows = await session.execute(
            select(CheckinAssignment, CheckinRound, CheckinForm.code)
            .join(CheckinRound, CheckinAssignment.round_id == CheckinRound.id)
            .join(CheckinForm, CheckinRound.form_id == CheckinForm.id)
            .where(CheckinAssignment.user_id == user_id)
            .order_by(CheckinRound.deadline))
        return [(a, r, code) for a, r, code in rows]

    async def begin(self, session: AsyncSession, assignment: CheckinAssignment,
                    round_: CheckinRound, chat_key: str, user_id: int, *,
                    edit: bool = False) -> None:
        """Starts (or resumes) answering in this chat; an edit starts from the submitted
        answers and shows the summary first."""
        form = self.form_of(round_)
        if edit:
            assignment.draft = copy.deepcopy(assignment.answers or {})
            assignment.confirming = True
        elif assignment.draft is None:
            assignment.draft = {}
        if not edit and assignment.status == WAITING:
            assignment.status = ANSWERING
            assignment.current = first_question(form, assignment.draft)
        expires = aware(round_.deadline) + timedelta(days=self.settings.checkins_late_days)
        await self.conversations.start(session, chat_key, user_id, CONVERSATION_KIND,
                                       {"assignment": assignment.id, "edit": edit},
                                       ttl=max(expires - self.clock.now(), timedelta(hours=1)))

    async def submit(self, session: AsyncSession, assignment: CheckinAssignment,
                     round_: CheckinRound) -> None:
        form = self.form_of(round_)
        draft = dict(assignment.draft or {})
        relevant = relevant_answers(form, draft)
        now = self.clock.now()
        if assignment.submitted_at is None:
            assignment.submitted_at = now
            assignment.late = now > aware(round_.deadline)
        else:
            assignment.edited_at = now
        assignment.answers, assignment.draft = relevant, None
        assignment.status, assignment.confirming = SUBMITTED, False
        region_question = form.region_question
        if region_question is not None and relevant.get(region_question.name):
            assignment.region = str(relevant[region_question.name])[:60]
        await session.flush()
        log.info("check-in submitted", extra={"fields": {
            "round_id": round_.id, "assignment_id": assignment.id, "late": assignment.late}})

    async def discard_edit(self, session: AsyncSession, assignment: CheckinAssignment) -> None:
        if assignment.status == SUBMITTED:
            assignment.draft, assignment.confirming = None, False
            await session.flush()

    # ----- absences and pauses -----------------------------------------------------------

    def absence_dates(self, text: str, today: date) -> tuple[date, date]:
        """The first and last day of an absence (`/away FROM TO`, or one day), in words or
        digits, checked. Raises `WhenError` with the reason."""
        starts, ends = parse_span(text, today)
        if ends < starts:
            raise WhenError(_("The end date is before the start date."))
        if ends < today:
            raise WhenError(_("That absence is already over."))
        if (ends - starts).days > MAX_ABSENCE_DAYS:
            raise WhenError(_("An absence can last at most a year."))
        return starts, ends

    async def add_absence(self, session: AsyncSession, user_id: int, starts: date,
                          ends: date) -> CheckinAbsence:
        absence = CheckinAbsence(user_id=user_id, starts_on=starts, ends_on=ends,
                                 created_at=self.clock.now())
        session.add(absence)
        await session.flush()
        return absence

    async def absences_of(self, session: AsyncSession, user_id: int,
                          upcoming_only: bool = True) -> list[CheckinAbsence]:
        query = select(CheckinAbsence).where(CheckinAbsence.user_id == user_id)
        if upcoming_only:
            query = query.where(CheckinAbsence.ends_on >= self.clock.now().date())
        return list(await session.scalars(query.order_by(CheckinAbsence.starts_on)))

    async def clear_absences(self, session: AsyncSession, user_id: int) -> int:
        absences = await self.absences_of(session, user_id)
        for absence in absences:
            await session.delete(absence)
        return len(absences)

    def is_holiday(self, day: date) -> bool:
        if day.year not in self._holidays:
            self._holidays[day.year] = holidays.country_holidays("BE", years=day.year)
        return day in self._holidays[day.year]

    def paused_on(self, day: date, absences: list[tuple[date, date]]) -> bool:
        return self.is_holiday(day) or any(start <= day <= end for start, end in absences)

    def nudge_moment(self, slot: datetime, deadline: datetime, tz: ZoneInfo,
                     absences: list[tuple[date, date]]) -> datetime | None:
        """When a nudge planned at `slot` is really sent: moved one day at a time past public
        holidays and the person's absences (same time of day), or None when that would be at
        or after the deadline."""
        moment = slot
        for _day in range(MAX_PAUSE_DAYS):
            if moment >= deadline:
                return None
            if not self.paused_on(moment.astimezone(tz).date(), absences):
                return moment
            moment += timedelta(days=1)
        return None

    # ----- due work ----------------------------------------------------------------------

    async def run_due(self) -> dict[str, int]:
        """Opens due rounds, sends due nudges, closes rounds at their deadline and reduces
        old answers to aggregates. Each round is handled in its own transaction."""
        done = {"opened": 0, "nudged": 0, "closed": 0, "reduced": 0}
        now = self.clock.now()
        async with self.db.session() as session:
            due_open = list(await session.scalars(select(CheckinRound.id).where(
                CheckinRound.status == SCHEDULED, CheckinRound.opens_at <= now)))
            open_ids = list(await session.scalars(select(CheckinRound.id).where(
                CheckinRound.status == OPEN)))
        for round_id in due_open:
            async with self.db.transaction() as session:
                round_ = await session.get(CheckinRound, round_id)
                if round_.status == SCHEDULED:
                    await self.open_round(session, round_)
                    done["opened"] += 1
        for round_id in sorted(set(open_ids) | set(due_open)):
            async with self.db.transaction() as session:
                round_ = await session.get(CheckinRound, round_id)
                if round_.status != OPEN:
                    continue
                done["nudged"] += await self._nudge(session, round_, now)
                if aware(round_.deadline) <= now:
                    await self._close(session, round_)
                    done["closed"] += 1
        done["reduced"] = await self.apply_retention()
        return done

    async def _nudge(self, session: AsyncSession, round_: CheckinRound, now: datetime) -> int:
        slots = [datetime.fromisoformat(t) for t in round_.nudge_times or []]
        due_slots = [i for i, slot in enumerate(slots) if aware(slot) <= now]
        deadline = aware(round_.deadline)
        if not due_slots or now >= deadline:  # at the deadline the summary replaces nudges
            return 0
        pending = list((await session.execute(
            select(CheckinAssignment, User).join(User, CheckinAssignment.user_id == User.id)
            .where(CheckinAssignment.round_id == round_.id,
                   CheckinAssignment.status != SUBMITTED,
                   CheckinAssignment.chat_key.is_not(None),
                   CheckinAssignment.nudges_done < len(slots)))).all())
        absences = await self._absences_for([user.id for _a, user in pending])
        form = self.form_of(round_)
        sent = 0
        for assignment, user in pending:
            sent += await self._nudge_one(session, round_, form, assignment, user, slots,
                                          due_slots, deadline, absences.get(user.id, []), now)
        return sent

    async def _nudge_one(self, session, round_, form, assignment, user, slots, due_slots,
                         deadline, absences, now) -> int:
        """Only the latest due nudge counts: a nudge postponed by a holiday is not followed
        by a second one when the next slot arrives meanwhile."""
        latest = due_slots[-1]
        if latest < assignment.nudges_done:
            return 0
        tz = self.tz_of(user)
        moment = self.nudge_moment(aware(slots[latest]), deadline, tz, absences)
        if moment is None:  # paused until the deadline: this nudge is dropped
            assignment.nudges_done = latest + 1
            return 0
        if moment > now:  # paused today: the next run tries again
            return 0
        assignment.nudges_done = latest + 1
        assignment.nudges_sent += 1
        with self.catalogues.use(self.locale_of(user)):
            reply = texts.nudge(form, round_, tz, texts.prefix_for(assignment.chat_key))
        await self.outbox.enqueue(session, ChatRef.parse(assignment.chat_key), reply,
                                  f"checkins:nudge:{assignment.id}:{latest}",
                                  source=f"checkins:{round_.id}")
        return 1

    async def _absences_for(self, user_ids: list[int]) -> dict[int, list[tuple[date, date]]]:
        found: dict[int, list[tuple[date, date]]] = {}
        async with self.db.session() as session:
            for start in range(0, len(user_ids), 500):
                rows = await session.execute(
                    select(CheckinAbsence.user_id, CheckinAbsence.starts_on, CheckinAbsence.ends_on)
                    .where(CheckinAbsence.user_id.in_(user_ids[start:start + 500])))
                for user_id, starts, ends in rows:
                    found.setdefault(user_id, []).append((starts, ends))
        return found

    async def _close(self, session: AsyncSession, round_: CheckinRound) -> None:
        round_.status, round_.closed_at = CLOSED, self.clock.now()
        await session.flush()
        if round_.report_chat:
            reply = await self.closing_summary(session, round_)
            await self.outbox.enqueue(session, ChatRef.parse(round_.report_chat), reply,
                                      summary_key(round_.id), source=f"checkins:{round_.id}")
        log.info("round closed", extra={"fields": {"round_id": round_.id}})

    async def closing_summary(self, session: AsyncSession, round_: CheckinRound,
                              anonymous: frozenset[int] = frozenset()) -> Reply:
        """The summary posted when a round closes, in the language and time zone of the
        coordinator who opened it."""
        result = await self.summarise(session, round_, anonymous)
        creator = await session.get(User, round_.created_by) if round_.created_by else None
        locale = self.locale_of(creator) if creator else self.settings.default_locale
        with self.catalogues.use(locale):
            return texts.round_summary(self.form_of(round_), round_, result,
                                       self.tz_of(creator), closing=True)

    async def redact_summaries(self, session: AsyncSession, round_ids: list[int],
                               user_id: int) -> None:
        """A person is being erased: the closing summaries of their rounds, queued or already
        sent (the stored copy), are written again without their name and free-text answers."""
        for round_id in round_ids:
            row = await session.scalar(select(OutboxMessage).where(
                OutboxMessage.idempotency_key == summary_key(round_id)))
            round_ = await session.get(CheckinRound, round_id)
            if row is None or not row.text or round_ is None:
                continue  # no summary, or its text already blanked by retention
            row.text = (await self.closing_summary(session, round_, frozenset({user_id}))).text
        await session.flush()

    async def close_now(self, session: AsyncSession, round_: CheckinRound) -> None:
        """A coordinator closes a round early: the deadline becomes now."""
        round_.deadline = self.clock.now()
        await self._close(session, round_)

    # ----- results -----------------------------------------------------------------------

    async def respondents(self, session: AsyncSession, round_: CheckinRound) -> list[
            tuple[CheckinAssignment, User]]:
        rows = await session.execute(
            select(CheckinAssignment, User).join(User, CheckinAssignment.user_id == User.id)
            .where(CheckinAssignment.round_id == round_.id).order_by(User.display_name, User.id))
        return [(a, u) for a, u in rows]

    async def summarise(self, session: AsyncSession, round_: CheckinRound,
                        anonymous: frozenset[int] = frozenset()) -> dict[str, Any]:
        if round_.aggregates is not None:
            return round_.aggregates
        rows = await self.respondents(session, round_)
        form = self.form_of(round_)
        regions = await self.regions_of(session, form, [user for _a, user in rows])
        return summaries.summarise(form, rows, regions, anonymous)

    async def history(self, session: AsyncSession, form_row: CheckinForm,
                      limit: int | None = None) -> list[tuple[CheckinRound, dict[str, Any]]]:
        """The last rounds of a form, oldest first, with their summaries (for the chart)."""
        limit = limit or self.settings.checkins_chart_rounds
        rounds = [r for r in await self.rounds_of(session, form_row, limit)
                  if r.status != SCHEDULED]
        return [(r, await self.summarise(session, r)) for r in reversed(rounds)]

    # ----- retention ---------------------------------------------------------------------

    async def apply_retention(self) -> int:
        """Rounds whose deadline is older than the retention period keep only aggregates
        (each round in its own transaction)."""
        async with self.db.session() as session:
            ids = await self._rounds_past_retention(session, self.clock.now())
        for round_id in ids:
            async with self.db.transaction() as session:
                await self._reduce(session, round_id)
        return len(ids)

    async def purge_raw_answers(self, session: AsyncSession, now: datetime) -> int:
        """The daily trust retention task (`checkins.raw_answers`), in its transaction."""
        ids = await self._rounds_past_retention(session, now)
        for round_id in ids:
            await self._reduce(session, round_id)
        return len(ids)

    async def _rounds_past_retention(self, session: AsyncSession, now: datetime) -> list[int]:
        cutoff = now - timedelta(days=self.settings.checkins_retention_days)
        return list(await session.scalars(select(CheckinRound.id).where(
            CheckinRound.status == CLOSED, CheckinRound.reduced_at.is_(None),
            CheckinRound.deadline <= cutoff)))

    async def _reduce(self, session: AsyncSession, round_id: int) -> None:
        round_ = await session.get(CheckinRound, round_id)
        result = await self.summarise(session, round_)
        round_.aggregates = summaries.without_raw_answers(result)
        round_.reduced_at = self.clock.now()
        await session.execute(update(CheckinAssignment).where(
            CheckinAssignment.round_id == round_id).values(answers=None, draft=None))
        await session.flush()
        log.info("round reduced to aggregates", extra={"fields": {"round_id": round_id}})


def summary_key(round_id: int) -> str:
    return f"checkins:summary:{round_id}"


# ----- navigation in a form (pure functions, tested directly) ----------------------------

def first_question(form: Form, answers: dict[str, Any]) -> int:
    found = next_question(form, answers, -1)
    return found if found is not None else 0


def next_question(form: Form, answers: dict[str, Any], index: int) -> int | None:
    for position in range(index + 1, len(form.questions)):
        question = form.questions[position]
        if question.answerable and question.is_relevant(answers):
            return position
    return None


def previous_question(form: Form, answers: dict[str, Any], index: int) -> int | None:
    for position in range(min(index, len(form.questions)) - 1, -1, -1):
        question = form.questions[position]
        if question.answerable and question.is_relevant(answers):
            return position
    return None


def relevant_answers(form: Form, answers: dict[str, Any]) -> dict[str, Any]:
    """The answers a submission keeps: questions made irrelevant by a later change drop out."""
    kept: dict[str, Any] = {}
    for question in form.answerable:
        if question.name in answers and question.is_relevant(kept | answers):
            kept[question.name] = answers[question.name]
    return kept


def build(services) -> CheckinsService:
    service = CheckinsService(services.db, services.outbox, services.clock, services.settings,
                              services.catalogues, services.people, services.conversations,
                              services.directory)

    async def start(services_) -> None:
        await service.load_folder(services_.settings.checkins_forms_dir)
        services_.scheduler.add_job(service.run_due, "interval", minutes=1,
                                    id="checkins.run_due", replace_existing=True,
                                    max_instances=1, coalesce=True)

    services.startup_hooks.append(start)
    if services.trust is not None:
        register_privacy(services.trust.privacy, service)
        services.trust.retention.register("checkins.raw_answers", service.purge_raw_answers)
    return service
