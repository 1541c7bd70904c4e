"""Issue 11, item 3: a confirmation does not outlive the permission. The policy table is
checked again when a pending step is confirmed, a person's pending conversations are cleared
when their role changes, and a preview expires after COORDBOT_PREVIEW_TTL_MINUTES (30)."""
from datetime import timedelta

import pytest

from bot.checkins.models import CheckinRound
from bot.config import ConfigError, load_settings
from bot.outbox import OutboxMessage
from bot.people import User
from bot.reminders.models import Broadcast, Schedule
from tests.harness import make_bot

PREVIEWS = {
    "broadcast": ("/broadcast all; Office closed on Friday", Broadcast),
    "meeting": ("/meeting tomorrow 10:00; Coordination; all", Schedule),
    "rounds": ("/rounds open weekly_local; 2026-03-06 17:00; role:focal_point", CheckinRound),
    "remind": ("/remind tomorrow 10:00; Call the CPAS; role:focal_point", Schedule),
}


async def _coordinator(bot, name="carol", lang=None):
    await bot.say("/whoami", as_=name)
    if lang:
        await bot.say(f"/lang {lang}", as_=name)
    assert "coordinat" in await bot.ask(f"/role @{name} coordinator", as_="alice")


async def _nothing_done(bot, model) -> None:
    assert await bot.count(model) == 0
    assert await bot.count(OutboxMessage) == 0


@pytest.mark.parametrize("name", sorted(PREVIEWS))
async def test_a_preview_confirmed_after_a_demotion_does_nothing(bot, name):
    command, model = PREVIEWS[name]
    await _coordinator(bot)
    await bot.say("/whoami", as_="fiona")
    await bot.say("/role @fiona focal_point", as_="alice")  # somebody to address
    [preview] = await bot.say(command, as_="carol")
    assert len(preview.choices) == 2, preview.text
    assert "guest" in await bot.ask("/role @carol guest", as_="alice")
    answer = await bot.ask("1", as_="carol")
    assert "nothing was sent" in answer, answer
    await _nothing_done(bot, model)


async def test_the_policy_is_checked_again_even_when_the_role_changed_elsewhere(bot):
    await _coordinator(bot)
    await bot.ask("/broadcast all; Office closed on Friday", as_="carol")
    async with bot.services.db.transaction() as session:   # e.g. a second bot process
        carol = await bot.services.people.find(session, "@carol", "console")
        carol.role_code = "staff"
    answer = await bot.ask("1", as_="carol")
    assert "role" in answer and "nothing was sent" in answer, answer
    await _nothing_done(bot, Broadcast)
    # the refusal ended the preview: a second "1" confirms nothing either
    await bot.ask("1", as_="carol")
    await _nothing_done(bot, Broadcast)


async def test_a_preview_expires_after_thirty_minutes(bot):
    await _coordinator(bot, lang="fr")
    await bot.ask("/broadcast all; Bureau fermé vendredi", as_="carol")
    bot.clock.advance(timedelta(minutes=31))
    answer = await bot.ask("1", as_="carol")
    assert "expiré" in answer and "rien n’a été envoyé" in answer, answer
    await _nothing_done(bot, Broadcast)
    await bot.ask("/broadcast all; Bureau fermé vendredi", as_="carol")
    bot.clock.advance(timedelta(minutes=29))
    assert "B1" in await bot.ask("oui", as_="carol")


async def test_the_lifetime_of_a_preview_is_a_setting(tmp_path, database_url):
    bot = await make_bot(tmp_path, database_url, admins=["console:alice"], preview_ttl_minutes=5)
    try:
        await bot.say("/lang nl", as_="alice")
        await bot.ask("/remind morgen 10u; Bel het OCMW", as_="alice")
        bot.clock.advance(timedelta(minutes=6))
        answer = await bot.ask("ja", as_="alice")
        assert "verlopen" in answer, answer
        assert await bot.count(Schedule) == 0
    finally:
        await bot.close()
    assert load_settings(environ={"COORDBOT_PREVIEW_TTL_MINUTES": "45"}).preview_ttl_minutes == 45
    with pytest.raises(ConfigError, match="COORDBOT_PREVIEW_TTL_MINUTES"):
        load_settings(environ={"COORDBOT_PREVIEW_TTL_MINUTES": "0"})


async def test_a_role_change_clears_a_check_in_in_progress(bot):
    """Not only previews: whatever the person had pending is gone after a role change."""
    await bot.say("/whoami", as_="fiona")
    await bot.say("/role @fiona focal_point", as_="alice")
    await bot.ask("/rounds open weekly_local; 2026-03-06 17:00; @fiona", as_="alice")
    await bot.ask("1", as_="alice")
    assert "round 1" in await bot.ask("/checkin", as_="fiona")
    await bot.say("/role @fiona staff", as_="alice")
    async with bot.services.db.session() as session:
        fiona = await bot.services.people.find(session, "@fiona", "console")
        assert await bot.services.conversations.current(session, "console:fiona",
                                                        fiona.id) is None
    assert isinstance(fiona, User)
