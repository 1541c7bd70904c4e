"""What a round's answers add up to: who answered, the summary (live, or the aggregates kept
after retention), the history drawn in the chart, and the summary posted at closing."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.checkins import summary as summaries
from bot.checkins import texts
from bot.checkins.common import locale_of, tz_of
from bot.checkins.forms_store import FormsStore
from bot.checkins.models import SCHEDULED, CheckinAssignment, CheckinForm, CheckinRound
from bot.checkins.recipients import Recipients
from bot.checkins.rounds import Rounds
from bot.config import Settings
from bot.i18n import Catalogues
from bot.messages import Reply
from bot.outbox import OutboxMessage
from bot.people import User


def summary_key(round_id: int) -> str:
    return f"checkins:summary:{round_id}"


class Results:
    def __init__(self, settings: Settings, catalogues: Catalogues, forms: FormsStore,
                 recipients: Recipients, rounds: Rounds):
        self.settings = settings
        self.catalogues = catalogues
        self.forms = forms
        self.recipients = recipients
        self.rounds = rounds

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
        form = self.forms.form_of(round_)
        regions = await self.recipients.regions_of(session, form, [user for _a, user in rows])
        return summaries.summarise(form, rows, regions, anonymous)

    async def history(self, session: AsyncSession, form_row: CheckinForm,
                      limit: int | None = None) -> list[tuple[CheckinRound, dict[str, Any]]]:
        """The last rounds of a form, oldest first, with their summaries (for the chart)."""
        limit = limit or self.settings.checkins_chart_rounds
        rounds = [r for r in await self.rounds.rounds_of(session, form_row, limit)
                  if r.status != SCHEDULED]
        return [(r, await self.summarise(session, r)) for r in reversed(rounds)]

    async def closing_summary(self, session: AsyncSession, round_: CheckinRound,
                              anonymous: frozenset[int] = frozenset()) -> Reply:
        """The summary posted when a round closes, in the language and time zone of the
        coordinator who opened it."""
        result = await self.summarise(session, round_, anonymous)
        creator = await session.get(User, round_.created_by) if round_.created_by else None
        locale = (locale_of(creator, self.settings.default_locale) if creator
                  else self.settings.default_locale)
        with self.catalogues.use(locale):
            return texts.round_summary(self.forms.form_of(round_), round_, result,
                                       tz_of(creator, self.settings.timezone), closing=True)

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
