from bot.trust import audit
from tests.trust.helpers import fresh_audit_log, invite


async def test_audit_api_records_what_features_report(bot):
    async with bot.services.db.transaction() as session:
        await audit.record(session, 1, "broadcast.send", "broadcast:7", {"chats": 12})
    text = await bot.ask("/audit", as_="alice")
    assert "broadcast.send" in text and "broadcast:7" in text and "chats=12" in text


async def test_audit_shows_the_latest_n_entries_newest_first(bot):
    for role in ("staff", "focal_point", "coordinator"):
        await invite(bot, role=role)
    text = await bot.ask("/audit 2", as_="alice")
    assert "Latest 2 audit entries" in text
    assert "role=coordinator" in text and "role=focal_point" in text and "role=staff" not in text
    assert "Usage" in await bot.ask("/audit many", as_="alice")


async def test_audit_is_for_admins_in_direct_chats(bot):
    await bot.say("/whoami", as_="carl")
    await bot.say("/role carl coordinator", as_="alice")
    assert "not available to you" in await bot.ask("/audit", as_="carl")
    assert "direct chat" in await bot.ask("/audit", as_="alice", chat="group1")


async def test_empty_audit_log_says_so(bot):
    await fresh_audit_log(bot)
    assert "empty" in await bot.ask("/audit", as_="alice")


async def test_refused_role_change_is_not_audited(bot):
    await fresh_audit_log(bot)
    await bot.say("/whoami", as_="bob")
    await bot.say("/role alice guest", as_="bob")
    await bot.say("/role bob king", as_="alice")
    assert "empty" in await bot.ask("/audit", as_="alice")
