"""The rules of a round held by the domain (bot/checkins/rounds.py), whoever creates it: the
deadline comes after the opening, a round lasts at most three months, rounds are numbered per
form."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.checkins.common import CheckinError
from bot.checkins.models import CheckinRound

BRUSSELS = ZoneInfo("Europe/Brussels")


async def _create(bot, opens_after: timedelta, lasts: timedelta) -> CheckinRound:
    checkins = bot.services.checkins
    opens = bot.clock.now() + opens_after
    async with bot.services.db.transaction() as session:
        row = await checkins.forms.require(session, "weekly_local")
        return await checkins.rounds.create_round(
            session, row, opens_at=opens, deadline=opens + lasts, audience="role:focal_point",
            report_chat=None, created_by=None, tz=BRUSSELS)


async def _round_count(bot) -> int:
    async with bot.services.db.session() as session:
        return await session.scalar(select(func.count()).select_from(CheckinRound))


async def test_create_round_refuses_a_deadline_before_the_opening(checkin_bot):
    with pytest.raises(CheckinError, match="must be after the opening time"):
        await _create(checkin_bot, timedelta(days=2), -timedelta(hours=1))
    with pytest.raises(CheckinError, match="must be after the opening time"):
        await _create(checkin_bot, timedelta(0), timedelta(0))
    assert await _round_count(checkin_bot) == 0


async def test_create_round_refuses_a_round_over_three_months(checkin_bot):
    with pytest.raises(CheckinError, match="at most three months"):
        await _create(checkin_bot, timedelta(0), timedelta(days=92, minutes=1))
    assert await _round_count(checkin_bot) == 0
    kept = await _create(checkin_bot, timedelta(0), timedelta(days=92))
    assert kept.number == 1


async def test_rounds_are_numbered_per_form_with_nudges_inside_the_round(checkin_bot):
    first = await _create(checkin_bot, timedelta(0), timedelta(days=4))
    second = await _create(checkin_bot, timedelta(days=1), timedelta(days=4))
    assert (first.number, second.number) == (1, 2)
    assert second.status == "scheduled" and len(second.nudge_times) == 2


async def test_round_times_apply_the_same_rules_to_what_a_coordinator_writes(checkin_bot):
    rounds, now = checkin_bot.services.checkins.rounds, checkin_bot.clock.now()
    with pytest.raises(CheckinError, match="must be after the opening time"):
        rounds.round_times("in 2 days", "in 5 days", BRUSSELS, now)
    with pytest.raises(CheckinError, match="at most three months"):
        rounds.round_times("in 200 days", "", BRUSSELS, now)
    opens, deadline = rounds.round_times("in 3 days", "", BRUSSELS, now)
    assert opens == now and deadline > now


async def test_an_unknown_form_is_named_with_the_forms_there_are(checkin_bot):
    async with checkin_bot.services.db.session() as session:
        with pytest.raises(CheckinError, match="Unknown form `?nope.*weekly_local"):
            await checkin_bot.services.checkins.forms.require(session, "nope")
