"""The check-in service: one entry point over the parts of the feature, each in its module —
the forms repository (forms_store.py), who a round asks (recipients.py), round creation and
opening (rounds.py), answering (answering.py), absences and holidays (absences.py), results
(results.py) and the time-driven work: nudges, closing, retention (closing.py).

Handlers reach the parts as `ctx.services.checkins.<part>`; the methods here serve the other
features (web dashboard, directory campaign, privacy) with the names they have always used."""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.checkins.absences import Absences, Span
from bot.checkins.answering import Answering
from bot.checkins.closing import DueWork
from bot.clock import Clock
from bot.checkins.common import tz_of
from bot.checkins.forms import Form
from bot.checkins.forms_store import FormsStore
from bot.checkins.models import CheckinAbsence, CheckinAssignment, CheckinForm, CheckinRound
from bot.checkins.recipients import Recipients
from bot.checkins.results import Results
from bot.checkins.rounds import Rounds
from bot.config import Settings
from bot.conversations import Conversations
from bot.db import Database
from bot.i18n import Catalogues
from bot.outbox import Outbox
from bot.people import People, User

if TYPE_CHECKING:
    from bot.directory.service import DirectoryService


class CheckinsService:
    def __init__(self, *, db: Database, outbox: Outbox, clock: Clock, settings: Settings,
                 catalogues: Catalogues, people: People, conversations: Conversations,
                 directory: DirectoryService | None = None):
        self.settings = settings
        self.forms = FormsStore(db, clock)
        self.recipients = Recipients(people, directory)
        self.rounds = Rounds(clock, settings, catalogues, outbox, self.forms, self.recipients)
        self.answering = Answering(clock, settings, self.forms, conversations)
        self.absences = Absences(db, clock)
        self.results = Results(settings, catalogues, self.forms, self.recipients, self.rounds)
        self.due = DueWork(db, clock, settings, catalogues, outbox, self.forms, self.rounds,
                           self.absences, self.results)

    # ----- what the application registers (bot/bootstrap.py) -----------------------------

    async def on_start(self, forms_folder: Path | None) -> int:
        """Loads the shipped forms; returns how many were new or changed."""
        return await self.forms.load_folder(forms_folder)

    async def run_due(self) -> dict[str, int]:
        """The job run every minute: see `DueWork.run_due`."""
        return await self.due.run_due()

    async def purge_raw_answers(self, session: AsyncSession, now: datetime) -> int:
        """The daily retention task `checkins.raw_answers`."""
        return await self.due.purge_raw_answers(session, now)

    # ----- for the other features --------------------------------------------------------

    def tz_of(self, user: User | None) -> ZoneInfo:
        return tz_of(user, self.settings.timezone)

    def form_of(self, round_: CheckinRound) -> Form:
        return self.forms.form_of(round_)

    async def form_row(self, session: AsyncSession, code: str) -> CheckinForm | None:
        return await self.forms.form_row(session, code)

    async def rounds_of(self, session: AsyncSession, form_row: CheckinForm,
                        limit: int = 20) -> list[CheckinRound]:
        return await self.rounds.rounds_of(session, form_row, limit)

    async def round_by_number(self, session: AsyncSession, form_row: CheckinForm,
                              number: int | None) -> CheckinRound | None:
        return await self.rounds.round_by_number(session, form_row, number)

    async def regions_of(self, session: AsyncSession, form: Form,
                         users: list[User]) -> dict[int, str]:
        return await self.recipients.regions_of(session, form, users)

    async def respondents(self, session: AsyncSession,
                          round_: CheckinRound) -> list[tuple[CheckinAssignment, User]]:
        return await self.results.respondents(session, round_)

    async def summarise(self, session: AsyncSession, round_: CheckinRound) -> dict[str, Any]:
        return await self.results.summarise(session, round_)

    async def assignments_of(self, session: AsyncSession, user_id: int) -> list[
            tuple[CheckinAssignment, CheckinRound, str]]:
        return await self.answering.assignments_of(session, user_id)

    async def redact_summaries(self, session: AsyncSession, round_ids: list[int],
                               user_id: int) -> None:
        await self.results.redact_summaries(session, round_ids, user_id)

    async def absences_of(self, session: AsyncSession, user_id: int) -> list[CheckinAbsence]:
        return await self.absences.of(session, user_id)

    def paused_on(self, day: date, absences: list[Span]) -> bool:
        return self.absences.paused_on(day, absences)
