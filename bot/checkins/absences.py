"""Declared absences and public holidays: the days on which nobody is nudged."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.checkins.models import CheckinAbsence
from bot.db import Database
from bot.i18n import _
from bot.when import WhenError, parse_span

MAX_PAUSE_DAYS = 60
MAX_ABSENCE_DAYS = 366
BATCH = 500  # ids per IN (...) query

Span = tuple[date, date]


class Absences:
    def __init__(self, db: Database, clock: Clock):
        self.db = db
        self.clock = clock
        self._holidays: dict[int, holidays.HolidayBase] = {}

    def absence_dates(self, text: str, today: date) -> Span:
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

    async def add(self, session: AsyncSession, user_id: int, starts: date,
                  ends: date) -> CheckinAbsence:
        absence = CheckinAbsence(user_id=user_id, starts_on=starts, ends_on=ends,
                                 created_at=self.clock.now())
        session.add(absence)
        await session.flush()
        return absence

    async def of(self, session: AsyncSession, user_id: int,
                 upcoming_only: bool = True) -> list[CheckinAbsence]:
        query = select(CheckinAbsence).where(CheckinAbsence.user_id == user_id)
        if upcoming_only:
            query = query.where(CheckinAbsence.ends_on >= self.clock.now().date())
        return list(await session.scalars(query.order_by(CheckinAbsence.starts_on)))

    async def clear(self, session: AsyncSession, user_id: int) -> int:
        absences = await self.of(session, user_id)
        for absence in absences:
            await session.delete(absence)
        return len(absences)

    async def of_people(self, user_ids: list[int]) -> dict[int, list[Span]]:
        """Everyone's declared absences, past ones included (a nudge may be overdue)."""
        found: dict[int, list[Span]] = {}
        async with self.db.session() as session:
            for start in range(0, len(user_ids), BATCH):
                rows = await session.execute(
                    select(CheckinAbsence.user_id, CheckinAbsence.starts_on,
                           CheckinAbsence.ends_on)
                    .where(CheckinAbsence.user_id.in_(user_ids[start:start + BATCH])))
                for user_id, starts, ends in rows:
                    found.setdefault(user_id, []).append((starts, ends))
        return found

    def is_holiday(self, day: date) -> bool:
        if day.year not in self._holidays:
            self._holidays[day.year] = holidays.country_holidays("BE", years=day.year)
        return day in self._holidays[day.year]

    def paused_on(self, day: date, absences: list[Span]) -> bool:
        return self.is_holiday(day) or any(start <= day <= end for start, end in absences)

    def nudge_moment(self, slot: datetime, deadline: datetime, tz: ZoneInfo,
                     absences: list[Span]) -> datetime | None:
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
