"""Issue 11, item 1: only the people a meeting or deadline addresses (and its owner or a
coordinator) answer it, only for a real occurrence, and a refusal reveals nothing — not the
title, not even whether the reminder exists. Bad answers stored before the fix do not break
`/acks`."""
from datetime import datetime, timedelta, UTC

from bot.reminders.formatting import clock_time, moment
from bot.reminders.models import Acknowledgement
from tests.reminders.test_commands import create

SECRET = "Secret coordination meeting"


async def _delivered_meeting(bot, inbox, audience="@bob", when="in 5 minutes",
                             wait=timedelta(minutes=5)) -> str:
    """Alice (admin) schedules a meeting for bob; returns the `/ack R1 TOKEN` prefix bob got."""
    await bot.say("/whoami", as_="bob")
    await create(bot, f"/meeting {when}; {SECRET}; {audience}")
    bot.clock.advance(wait)
    await bot.services.reminders.run_due()
    [to_bob] = [r for k, r in inbox.sent if k == "console:bob"]
    return to_bob.choices[0].value.rsplit(" ", 1)[0]


async def test_a_stranger_cannot_answer_and_learns_nothing(bot, inbox):
    ack = await _delivered_meeting(bot, inbox)
    token = ack.split()[-1]
    await bot.say("/whoami", as_="mallory")
    refused = await bot.ask(f"{ack} no", as_="mallory")
    unknown = await bot.ask(f"/ack R99 {token} no", as_="mallory")
    assert refused == unknown
    assert SECRET not in refused and "noted" not in refused
    assert "noted" in await bot.ask(f"{ack} yes", as_="bob")
    answers = await bot.ask("/acks R1", as_="alice")
    assert "bob" in answers and "mallory" not in answers
    assert await bot.count(Acknowledgement) == 1


async def test_the_owner_and_a_group_member_may_answer(bot, inbox):
    await bot.say("/whoami", as_="bob")
    await create(bot, f"/meeting in 5 minutes; {SECRET}", chat="team", as_="alice")
    bot.clock.advance(timedelta(minutes=5))
    await bot.services.reminders.run_due()
    [to_group] = [r for k, r in inbox.sent if k == "console:team"]
    ack = to_group.choices[0].value
    assert "noted" in await bot.ask(ack, as_="bob", chat="team")       # a member of the group
    assert "noted" in await bot.ask(ack, as_="alice")                   # the owner
    assert "noted" not in await bot.ask(ack, as_="mallory")             # elsewhere: nobody's


async def test_only_a_real_occurrence_is_answered(bot, inbox):
    ack = await _delivered_meeting(bot, inbox, when="every Tuesday at 10:00",
                                   wait=timedelta(days=1))
    assert ack.endswith("20260303T090000Z")
    assert "noted" in await bot.ask(f"{ack} yes", as_="bob")
    schedule_word = ack.split()[1]
    for token in ("99991231T235959Z", "00010101T000000Z", "20260303T090100Z",
                  "20260512T080000Z"):   # year 9999, year 1, not a time of it, ten weeks ahead
        assert "noted" not in await bot.ask(f"/ack {schedule_word} {token} no", as_="bob")
    answers = await bot.ask("/acks R1", as_="alice")
    assert "1 will attend: bob" in answers and "9999" not in answers
    # the next time, which the reminder has not announced yet, may be answered in advance
    next_token = "20260310T090000Z"
    assert "noted" in await bot.ask(f"/ack {schedule_word} {next_token} no", as_="bob")


async def test_bad_answers_stored_before_the_fix_do_not_break_acks(bot, inbox):
    ack = await _delivered_meeting(bot, inbox)
    assert "noted" in await bot.ask(f"{ack} yes", as_="bob")
    async with bot.services.db.transaction() as session:
        for year in (9999, 1):
            session.add(Acknowledgement(
                schedule_id=1, user_id=1, answer="no",
                occurrence=datetime(year, 12 if year > 1 else 1, 31 if year > 1 else 1,
                                    23 if year > 1 else 0, 59 if year > 1 else 0,
                                    tzinfo=UTC),
                answered_at=bot.clock.now()))
    answers = await bot.ask("/acks R1", as_="alice")
    assert "1 will attend: bob" in answers
    assert "cannot attend" not in answers and "went wrong" not in answers


def test_dates_at_the_ends_of_the_calendar_are_written_not_crashed():
    for instant in (datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
                    datetime(1, 1, 1, 0, 0, tzinfo=UTC)):
        assert moment(instant, "Europe/Brussels")
        assert clock_time(instant, "Europe/Brussels", datetime.now(UTC))


async def test_a_role_audience_answers_and_other_roles_do_not(bot, inbox):
    for name, role in (("bob", "focal_point"), ("carol", "staff")):
        await bot.say("/whoami", as_=name)
        assert role.replace("_", " ") in await bot.ask(f"/role @{name} {role}", as_="alice")
    await create(bot, f"/meeting in 5 minutes; {SECRET}; role:focal_point")
    bot.clock.advance(timedelta(minutes=5))
    await bot.services.reminders.run_due()
    [to_bob] = [r for k, r in inbox.sent if k == "console:bob"]
    assert "noted" in await bot.ask(to_bob.choices[1].value, as_="bob")
    refused = await bot.ask(to_bob.choices[1].value, as_="carol")
    assert SECRET not in refused and "noted" not in refused


async def test_an_area_or_organisation_audience_answers_and_others_do_not(bot, inbox):
    from tests.reminders.test_area_audience import people_in_places
    await people_in_places(bot)
    await create(bot, f"/meeting in 5 minutes; {SECRET}; area:BE-WLG, org:ocmw-gent")
    bot.clock.advance(timedelta(minutes=5))
    await bot.services.reminders.run_due()
    [to_liege] = [r for k, r in inbox.sent if k == "console:liege"]
    ack = to_liege.choices[0].value
    # In Liège province, covering all of it (national), or the organisation: they received it.
    for name in ("liege", "orgonly", "fed", "gent"):
        assert "noted" in await bot.ask(ack, as_=name), name
    for name in ("forem", "nobody"):        # Wallonia without the German-speaking area; unplaced
        assert "noted" not in await bot.ask(ack, as_=name), name


async def test_a_role_in_a_place_narrows_who_may_answer(bot, inbox):
    from sqlalchemy import update

    from bot.reminders.models import Schedule
    from tests.reminders.test_area_audience import people_in_places
    await people_in_places(bot)
    await create(bot, f"/meeting in 5 minutes; {SECRET}; area:BE-WLG")
    async with bot.services.db.transaction() as session:   # "les invités de la province de Liège"
        await session.execute(update(Schedule).values(audience=["role:guest&area:BE-WLG"]))
    bot.clock.advance(timedelta(minutes=5))
    await bot.services.reminders.run_due()
    [to_liege] = [r for k, r in inbox.sent if k == "console:liege"]
    assert not [k for k, _r in inbox.sent if k == "console:gent"]
    ack = to_liege.choices[0].value
    assert "noted" in await bot.ask(ack, as_="liege")
    assert "noted" not in await bot.ask(ack, as_="gent")     # a guest, but in Ghent
