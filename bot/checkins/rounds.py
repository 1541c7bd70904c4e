"""Round lifecycle up to opening: when a round opens and ends (and the rules on both), its
nudge times, creating it, finding rounds, and opening it (asking everyone in its audience)."""
from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.checkins import texts
from bot.clock import Clock
from bot.checkins.common import CheckinError, locale_of, tz_of
from bot.checkins.forms import Form
from bot.checkins.forms_store import FormsStore
from bot.checkins.models import (ANSWERING, OPEN, SCHEDULED, SUBMITTED, WAITING,
                                 CheckinAssignment, CheckinForm, CheckinRound)
from bot.checkins.recipients import Recipient, Recipients
from bot.config import Settings
from bot.conversations import PendingConversation
from bot.i18n import Catalogues, _
from bot.messages import ChatRef, Reply
from bot.outbox import Outbox
from bot.when import END_OF_DAY, WhenError, parse_moment

log = logging.getLogger("coordbot.checkins")

CONVERSATION_KIND = "checkins.answer"
MAX_ROUND = timedelta(days=92)
MAX_AUDIENCE = 500  # CheckinRound.audience
# A round whose opening is a date without a time opens that morning, not at midnight.
OPENING_TIME = time(9, 0)
BATCH = 500  # ids per IN (...) query

Invitation = tuple[ChatRef, Reply, str, str | None]


def check_round_span(opens: datetime, deadline: datetime, tz: ZoneInfo) -> None:
    """A round ends after it opens, and lasts at most three months. Raises `CheckinError`."""
    if deadline <= opens:
        raise CheckinError(_("The deadline ({deadline}) must be after the opening time "
                             "({opens}).").format(deadline=texts.when(deadline, tz),
                                                  opens=texts.when(opens, tz)))
    if deadline - opens > MAX_ROUND:
        raise CheckinError(_("A round lasts at most three months; I read the deadline as "
                             "{deadline}.").format(deadline=texts.when(deadline, tz)))


@dataclass
class RoundLine:
    """A round in the coordinators' list: its form, how many were asked and have answered."""

    round: CheckinRound
    form_code: str
    asked: int
    answered: int


class Rounds:
    def __init__(self, clock: Clock, settings: Settings, catalogues: Catalogues, outbox: Outbox,
                 forms: FormsStore, recipients: Recipients):
        self.clock = clock
        self.settings = settings
        self.catalogues = catalogues
        self.outbox = outbox
        self.forms = forms
        self.recipients = recipients

    def round_times(self, deadline_text: str, opens_text: str, tz: ZoneInfo,
                    now: datetime) -> tuple[datetime, datetime]:
        """(opening, deadline) of a new round from what the coordinator wrote, read by the
        bot's one time parser; a date alone is 23:59 for a deadline. Raises `WhenError`, or
        `CheckinError` when the times break the rules of a round."""
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
        check_round_span(opens, deadline, tz)
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
                           report_chat: str | None, created_by: int | None,
                           tz: ZoneInfo | None = None) -> CheckinRound:
        """A scheduled round of the form. Raises `CheckinError` (its times shown in `tz`) when
        the deadline is not after the opening or the round would last over three months."""
        check_round_span(opens_at, deadline, tz or ZoneInfo("UTC"))
        number = (await session.scalar(select(func.max(CheckinRound.number)).where(
            CheckinRound.form_id == form_row.id)) or 0) + 1
        round_ = CheckinRound(
            form_id=form_row.id, number=number, definition=copy.deepcopy(form_row.definition),
            opens_at=opens_at, deadline=deadline, audience=audience[:MAX_AUDIENCE],
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
        """Round `number` of the form; without a number the latest one opened."""
        query = select(CheckinRound).where(CheckinRound.form_id == form_row.id,
                                           CheckinRound.status != SCHEDULED)
        if number is not None:
            query = select(CheckinRound).where(CheckinRound.form_id == form_row.id,
                                               CheckinRound.number == number)
        return await session.scalar(query.order_by(CheckinRound.number.desc()).limit(1))

    async def require_round(self, session: AsyncSession, form_row: CheckinForm,
                            number: int | None) -> CheckinRound:
        """`round_by_number`, or `CheckinError` when the form has no such round."""
        round_ = await self.round_by_number(session, form_row, number)
        if round_ is None:
            raise CheckinError(_("No round of {form} has been opened yet.").format(
                form=f"`{form_row.code}`"))
        return round_

    async def recent_rounds(self, session: AsyncSession, limit: int = 20) -> list[
            tuple[CheckinRound, str]]:
        rows = await session.execute(
            select(CheckinRound, CheckinForm.code).join(CheckinForm)
            .order_by(CheckinRound.opens_at.desc()).limit(limit))
        return [(round_, code) for round_, code in rows]

    async def overview(self, session: AsyncSession, limit: int = 20) -> list[RoundLine]:
        """The latest rounds, newest opening first, with how many were asked and answered."""
        rounds = await self.recent_rounds(session, limit)
        counts = {round_id: (total, done) for round_id, total, done in await session.execute(
            select(CheckinAssignment.round_id, func.count(),
                   func.sum(case((CheckinAssignment.status == SUBMITTED, 1), else_=0)))
            .where(CheckinAssignment.round_id.in_([r.id for r, _c in rounds]))
            .group_by(CheckinAssignment.round_id))}
        return [RoundLine(round_, code, int(counts.get(round_.id, (0, 0))[0]),
                          int(counts.get(round_.id, (0, 0))[1] or 0))
                for round_, code in rounds]

    async def open_round(self, session: AsyncSession, round_: CheckinRound) -> int:
        """Asks everyone in the audience, in their direct chat and language. Returns how many
        were asked. Idempotent: assignments are unique per (round, person) and messages are
        keyed."""
        form = self.forms.form_of(round_)
        existing = set(await session.scalars(select(CheckinAssignment.user_id).where(
            CheckinAssignment.round_id == round_.id)))
        recipients = [r for r in await self.recipients.resolve(session, round_.audience)
                      if r.user.id not in existing]
        busy = await self._busy_chats(session, [r.user.id for r in recipients])
        starting = {r.user.id for r in recipients
                    if r.chat_key is not None and (r.user.id, r.chat_key) not in busy}
        first = form.first_question({})
        ids = await self._insert_assignments(session, round_, recipients, starting, first)
        conversations = self._conversations(round_, recipients, starting, ids)
        if conversations:
            await session.execute(insert(PendingConversation), conversations)
        asked = len(await self.outbox.enqueue_many(
            session, self._invitations(round_, form, recipients, starting, first)))
        round_.status = OPEN
        await session.flush()
        log.info("round opened", extra={"fields": {"round_id": round_.id, "asked": asked,
                                                    "audience": len(recipients)}})
        return asked

    async def _insert_assignments(self, session: AsyncSession, round_: CheckinRound,
                                  recipients: list[Recipient], starting: set[int],
                                  first: int) -> dict[int, int]:
        """One assignment per person asked; returns each person's assignment id."""
        # Core bulk inserts: a round may open for thousands of people in one transaction.
        if recipients:
            await session.execute(insert(CheckinAssignment), [{
                "round_id": round_.id, "user_id": r.user.id, "chat_key": r.chat_key,
                "status": ANSWERING if r.user.id in starting else WAITING, "answers": None,
                "draft": {}, "current": first if r.user.id in starting else 0,
                "confirming": False, "late": False, "nudges_done": 0, "nudges_sent": 0}
                for r in recipients])
        return {user_id: assignment_id for user_id, assignment_id in await session.execute(
            select(CheckinAssignment.user_id, CheckinAssignment.id)
            .where(CheckinAssignment.round_id == round_.id))}

    def _conversations(self, round_: CheckinRound, recipients: list[Recipient],
                       starting: set[int], ids: dict[int, int]) -> list[dict[str, Any]]:
        """The answering conversations started at once (the chat was free)."""
        now = self.clock.now()
        expires = round_.deadline + timedelta(days=self.settings.checkins_late_days)
        return [{"chat_key": r.chat_key, "user_id": r.user.id, "kind": CONVERSATION_KIND,
                 "payload": {"assignment": ids[r.user.id]}, "created_at": now,
                 "expires_at": expires}
                for r in recipients if r.user.id in starting]

    def _invitations(self, round_: CheckinRound, form: Form, recipients: list[Recipient],
                     starting: set[int], first: int) -> list[Invitation]:
        rendered: dict[tuple[str, str | None, str, bool], Reply] = {}
        messages: list[Invitation] = []
        for recipient in recipients:
            if recipient.chat_key is None:
                continue
            start_now = recipient.user.id in starting
            # Same language, time zone, platform and start: same text (thousands of people).
            locale = locale_of(recipient.user, self.settings.default_locale)
            variant = (locale, recipient.user.timezone, texts.prefix_for(recipient.chat_key),
                       start_now)
            if variant not in rendered:
                with self.catalogues.use(locale):
                    rendered[variant] = texts.invitation(
                        form, round_, first, recipient.chat_key,
                        tz_of(recipient.user, self.settings.timezone), start_now)
            messages.append((ChatRef.parse(recipient.chat_key), rendered[variant],
                             f"checkins:ask:{round_.id}:{recipient.user.id}",
                             f"checkins:{round_.id}"))
        return messages

    async def _busy_chats(self, session: AsyncSession, user_ids: list[int]) -> set[tuple[int, str]]:
        """(user, chat) pairs with a conversation pending: we do not take it over. A reminder
        waiting for an answer (a background prompt) does not count: both can be answered."""
        busy: set[tuple[int, str]] = set()
        now = self.clock.now()
        for start in range(0, len(user_ids), BATCH):
            rows = await session.execute(
                select(PendingConversation.user_id, PendingConversation.chat_key,
                       PendingConversation.expires_at)
                .where(PendingConversation.user_id.in_(user_ids[start:start + BATCH]),
                       PendingConversation.background == False))  # noqa: E712
            busy.update((uid, key) for uid, key, expires in rows
                        if expires is None or expires > now)
        return busy
