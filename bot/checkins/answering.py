"""Answering a check-in: which assignment a person answers, starting or resuming it, moving
through the form (`Progress`: answer, skip, back, change one answer, review), and submitting."""
from __future__ import annotations

import copy
import logging
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.checkins.common import CheckinError
from bot.checkins.forms import Form, Question
from bot.checkins.forms_store import FormsStore
from bot.checkins.models import (ANSWERING, OPEN, SCHEDULED, SUBMITTED, WAITING,
                                 CheckinAssignment, CheckinForm, CheckinRound)
from bot.checkins.rounds import CONVERSATION_KIND
from bot.config import Settings
from bot.conversations import Conversations
from bot.i18n import _

log = logging.getLogger("coordbot.checkins")

Assigned = tuple[CheckinAssignment, CheckinRound]


class Progress:
    """Where a person is in a form, kept on their assignment (so a restart resumes there):
    the answers so far (`draft`), the question shown (`current`) and whether they are
    reviewing their answers before submitting (`confirming`)."""

    def __init__(self, form: Form, assignment: CheckinAssignment):
        self.form = form
        self.assignment = assignment

    @property
    def draft(self) -> dict[str, Any]:
        return dict(self.assignment.draft or {})

    @property
    def question(self) -> Question:
        return self.form.questions[self.assignment.current]

    @property
    def reviewing(self) -> bool:
        return bool(self.assignment.confirming)

    def reads(self, text: str, locale: str, today: date | None = None) -> tuple[Any, str | None]:
        """(value, None) when `text` answers the current question, else (None, problem)."""
        return self.form.parse_answer(self.question.name, text, self.draft, locale, today=today)

    def answer(self, text: str, locale: str, today: date, *, returning: bool) -> str | None:
        """Records the answer to the current question and moves on; the problem (translated)
        when the answer is not accepted, and then nothing changes."""
        value, problem = self.reads(text, locale, today)
        if problem:
            return problem
        self.assignment.draft = self.draft | {self.question.name: value}
        self._advance(returning)
        return None

    def skip(self, *, returning: bool) -> str | None:
        """Leaves an optional question empty (an answer already given stays) and moves on;
        the problem when the question needs an answer."""
        draft = self.draft
        if draft.get(self.question.name) is None:
            if self.question.required:
                return _("This question needs an answer.")
            draft[self.question.name] = None
        self.assignment.draft = draft
        self._advance(returning)
        return None

    def _advance(self, returning: bool) -> None:
        """To the next question asked, or (after changing one answer, `returning`) straight
        to the first one still unanswered, else to the review."""
        draft = self.draft
        following = None if returning else self.form.next_question(draft,
                                                                    self.assignment.current)
        if following is None:
            following = self.form.next_missing(draft)
        if following is None:
            self.assignment.confirming = True
        else:
            self.assignment.current = following

    def back(self) -> bool:
        """To the previous question asked; False on the first one."""
        previous = self.form.previous_question(self.draft, self.assignment.current)
        if previous is None:
            return False
        self.assignment.current = previous
        return True

    def leave_review(self) -> None:
        """Back from the review to the last question asked."""
        self.assignment.confirming = False
        last = self.form.previous_question(self.draft, len(self.form.questions))
        if last is not None:
            self.assignment.current = last

    def changeable(self) -> list[int]:
        """The questions answered so far that the person may go back to, in order."""
        draft = self.draft
        return [i for i in self.form.relevant_indexes(draft)
                if self.form.questions[i].name in draft]

    def change(self, number: int) -> bool:
        """Goes to the `number`th changeable question (from 1); False when there is none."""
        indexes = self.changeable()
        if not 1 <= number <= len(indexes):
            return False
        self.assignment.current, self.assignment.confirming = indexes[number - 1], False
        return True

    def relevant_indexes(self) -> list[int]:
        return self.form.relevant_indexes(self.draft)


class Answering:
    def __init__(self, clock: Clock, settings: Settings, forms: FormsStore,
                 conversations: Conversations):
        self.clock = clock
        self.settings = settings
        self.forms = forms
        self.conversations = conversations

    def answerable(self, round_: CheckinRound) -> bool:
        """Open rounds, and closed ones for late answers during the late period."""
        if round_.reduced_at is not None or round_.status == SCHEDULED:
            return False
        limit = round_.deadline + timedelta(days=self.settings.checkins_late_days)
        return self.clock.now() < limit

    def editable(self, round_: CheckinRound) -> bool:
        return round_.status == OPEN and self.clock.now() < round_.deadline

    def progress(self, assignment: CheckinAssignment, round_: CheckinRound) -> Progress:
        return Progress(self.forms.form_of(round_), assignment)

    async def assignment(self, session: AsyncSession, assignment_id: int) -> Assigned | None:
        """The assignment and its round, or None when it is gone."""
        row = (await session.execute(
            select(CheckinAssignment, CheckinRound).join(CheckinRound)
            .where(CheckinAssignment.id == assignment_id))).first()
        return (row[0], row[1]) if row else None

    async def open_assignment(self, session: AsyncSession, assignment_id: int) -> Assigned | None:
        """The assignment, when its round still takes answers."""
        found = await self.assignment(session, assignment_id)
        return found if found is not None and self.answerable(found[1]) else None

    async def assignments_of(self, session: AsyncSession, user_id: int) -> list[
            tuple[CheckinAssignment, CheckinRound, str]]:
        rows = await session.execute(
            select(CheckinAssignment, CheckinRound, CheckinForm.code)
            .join(CheckinRound, CheckinAssignment.round_id == CheckinRound.id)
            .join(CheckinForm, CheckinRound.form_id == CheckinForm.id)
            .where(CheckinAssignment.user_id == user_id)
            .order_by(CheckinRound.deadline))
        return [(a, r, code) for a, r, code in rows]

    async def waiting_forms(self, session: AsyncSession, user_id: int) -> list[str]:
        """The codes of the forms the person still has to answer, soonest deadline first."""
        return [code for a, r, code in await self.assignments_of(session, user_id)
                if a.status != SUBMITTED and self.answerable(r)]

    async def choose(self, session: AsyncSession, user_id: int, code: str, *, editing: bool,
                     prefix: str) -> Assigned:
        """What `/checkin [FORM]` answers (or `/checkin edit [FORM]` changes): the soonest
        due. Raises `CheckinError` saying why there is none."""
        mine = [(a, r) for a, r, c in await self.assignments_of(session, user_id)
                if not code or c.lower() == code.lower()]
        return self._to_edit(mine) if editing else self._to_answer(mine, prefix)

    def _to_edit(self, mine: list[Assigned]) -> Assigned:
        submitted = [(a, r) for a, r in mine if a.status == SUBMITTED]
        candidates = [(a, r) for a, r in submitted if self.editable(r)]
        if candidates:
            return candidates[0]
        if submitted:
            raise CheckinError(_("The deadline has passed: submitted answers can no longer "
                                 "be changed."))
        raise CheckinError(_("You have no submitted check-in that can still be changed."))

    def _to_answer(self, mine: list[Assigned], prefix: str) -> Assigned:
        candidates = [(a, r) for a, r in mine if a.status != SUBMITTED and self.answerable(r)]
        if candidates:
            return candidates[0]
        raise CheckinError(_("No check-in is waiting for you. To change submitted answers "
                             "before the deadline, send {prefix}checkin edit FORM.").format(
                                 prefix=prefix))

    async def begin(self, session: AsyncSession, assignment: CheckinAssignment,
                    round_: CheckinRound, chat_key: str, user_id: int, *,
                    edit: bool = False) -> None:
        """Starts (or resumes) answering in this chat; an edit starts from the submitted
        answers and shows the summary first."""
        form = self.forms.form_of(round_)
        if edit:
            assignment.draft = copy.deepcopy(assignment.answers or {})
            assignment.confirming = True
        elif assignment.draft is None:
            assignment.draft = {}
        if not edit and assignment.status == WAITING:
            assignment.status = ANSWERING
            assignment.current = form.first_question(assignment.draft or {})
        expires = round_.deadline + timedelta(days=self.settings.checkins_late_days)
        await self.conversations.start(session, chat_key, user_id, CONVERSATION_KIND,
                                       {"assignment": assignment.id, "edit": edit},
                                       ttl=max(expires - self.clock.now(), timedelta(hours=1)))

    async def submit(self, session: AsyncSession, assignment: CheckinAssignment,
                     round_: CheckinRound) -> bool:
        """Keeps the answers; returns whether this was the first submission (not an edit)."""
        form = self.forms.form_of(round_)
        relevant = form.relevant_answers(dict(assignment.draft or {}))
        now = self.clock.now()
        first_time = assignment.submitted_at is None
        if first_time:
            assignment.submitted_at = now
            assignment.late = now > round_.deadline
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
        return first_time

    async def discard_edit(self, session: AsyncSession, assignment: CheckinAssignment) -> None:
        if assignment.status == SUBMITTED:
            assignment.draft, assignment.confirming = None, False
            await session.flush()

