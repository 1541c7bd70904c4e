"""Time-driven work on rounds: opening them when due, nudging those who have not answered,
closing at the deadline with the summary, and reducing old answers to aggregates.

Everything sent goes through the outbox inside the transaction that decided it, with
idempotency keys, so a crash or a restart never sends twice nor loses a message. `run_due()`
is what the scheduler calls every minute; tests call it with a FakeClock."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.checkins import summary as summaries
from bot.checkins import texts
from bot.checkins.absences import Absences, Span
from bot.clock import Clock
from bot.checkins.common import CheckinError, locale_of, tz_of
from bot.checkins.forms import Form
from bot.checkins.forms_store import FormsStore
from bot.checkins.models import (CLOSED, OPEN, SCHEDULED, SUBMITTED, CheckinAssignment,
                                 CheckinRound)
from bot.checkins.results import Results, summary_key
from bot.checkins.rounds import Rounds
from bot.config import Settings
from bot.db import Database, as_utc
from bot.i18n import Catalogues, _
from bot.messages import ChatRef
from bot.outbox import Outbox
from bot.people import User

log = logging.getLogger("coordbot.checkins")


@dataclass
class NudgeSlots:
    """A round's nudge moments at one run: which are due, and the deadline they stop at."""

    round: CheckinRound
    form: Form
    slots: list[datetime]
    due: list[int]
    deadline: datetime
    now: datetime


class DueWork:
    def __init__(self, db: Database, clock: Clock, settings: Settings, catalogues: Catalogues,
                 outbox: Outbox, forms: FormsStore, rounds: Rounds, absences: Absences,
                 results: Results):
        self.db = db
        self.clock = clock
        self.settings = settings
        self.catalogues = catalogues
        self.outbox = outbox
        self.forms = forms
        self.rounds = rounds
        self.absences = absences
        self.results = results

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
                if round_ is not None and round_.status == SCHEDULED:
                    await self.rounds.open_round(session, round_)
                    done["opened"] += 1
        for round_id in sorted(set(open_ids) | set(due_open)):
            async with self.db.transaction() as session:
                round_ = await session.get(CheckinRound, round_id)
                if round_ is None or round_.status != OPEN:
                    continue
                done["nudged"] += await self._nudge(session, round_, now)
                if round_.deadline <= now:
                    await self._close(session, round_)
                    done["closed"] += 1
        done["reduced"] = await self.apply_retention()
        return done

    async def _nudge(self, session: AsyncSession, round_: CheckinRound, now: datetime) -> int:
        slots = [as_utc(datetime.fromisoformat(t)) for t in round_.nudge_times or []]
        plan = NudgeSlots(round_, self.forms.form_of(round_), slots,
                          [i for i, slot in enumerate(slots) if slot <= now],
                          round_.deadline, now)
        if not plan.due or now >= plan.deadline:  # at the deadline the summary replaces nudges
            return 0
        pending = list((await session.execute(
            select(CheckinAssignment, User).join(User, CheckinAssignment.user_id == User.id)
            .where(CheckinAssignment.round_id == round_.id,
                   CheckinAssignment.status != SUBMITTED,
                   CheckinAssignment.chat_key.is_not(None),
                   CheckinAssignment.nudges_done < len(slots)))).all())
        absences = await self.absences.of_people([user.id for _a, user in pending])
        sent = 0
        for assignment, user in pending:
            sent += await self._nudge_one(session, plan, assignment, user,
                                          absences.get(user.id, []))
        return sent

    async def _nudge_one(self, session: AsyncSession, plan: NudgeSlots,
                         assignment: CheckinAssignment, user: User, absences: list[Span]) -> int:
        """Only the latest due nudge counts: a nudge postponed by a holiday is not followed
        by a second one when the next slot arrives meanwhile."""
        latest = plan.due[-1]
        if latest < assignment.nudges_done or assignment.chat_key is None:
            return 0
        tz = tz_of(user, self.settings.timezone)
        moment = self.absences.nudge_moment(plan.slots[latest], plan.deadline, tz, absences)
        if moment is None:  # paused until the deadline: this nudge is dropped
            assignment.nudges_done = latest + 1
            return 0
        if moment > plan.now:  # paused today: the next run tries again
            return 0
        assignment.nudges_done = latest + 1
        assignment.nudges_sent += 1
        with self.catalogues.use(locale_of(user, self.settings.default_locale)):
            reply = texts.nudge(plan.form, plan.round, tz, texts.prefix_for(assignment.chat_key))
        await self.outbox.enqueue(session, ChatRef.parse(assignment.chat_key), reply,
                                  f"checkins:nudge:{assignment.id}:{latest}",
                                  source=f"checkins:{plan.round.id}")
        return 1

    async def _close(self, session: AsyncSession, round_: CheckinRound) -> None:
        round_.status, round_.closed_at = CLOSED, self.clock.now()
        await session.flush()
        if round_.report_chat:
            reply = await self.results.closing_summary(session, round_)
            await self.outbox.enqueue(session, ChatRef.parse(round_.report_chat), reply,
                                      summary_key(round_.id), source=f"checkins:{round_.id}")
        log.info("round closed", extra={"fields": {"round_id": round_.id}})

    async def close_now(self, session: AsyncSession, round_: CheckinRound,
                        form_code: str) -> None:
        """A coordinator closes an open round early: the deadline becomes now. Raises
        `CheckinError` when the round is not open."""
        if round_.status != OPEN:
            raise CheckinError(_("Round {number} of {form} is not open.").format(
                number=round_.number, form=f"`{form_code}`"))
        round_.deadline = self.clock.now()
        await self._close(session, round_)

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
        if round_ is None:
            return
        result = await self.results.summarise(session, round_)
        round_.aggregates = summaries.without_raw_answers(result)
        round_.reduced_at = self.clock.now()
        await session.execute(update(CheckinAssignment).where(
            CheckinAssignment.round_id == round_id).values(answers=None, draft=None))
        await session.flush()
        log.info("round reduced to aggregates", extra={"fields": {"round_id": round_id}})
