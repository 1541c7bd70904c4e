"""Chats that blocked the bot (`People.mark_unreachable`) are skipped by every audience kind
and named in the broadcast's delivery report, in the sender's language."""
from __future__ import annotations

from bot.messages import ChatRef


async def block(bot, chat_key: str) -> None:
    async with bot.services.db.transaction() as session:
        await bot.services.people.mark_unreachable(session, ChatRef.parse(chat_key),
                                                   bot.clock.now())


async def setup_people(bot) -> None:
    for name in ("bob", "dora"):
        await bot.say("/whoami", as_=name)
        await bot.say(f"/role {name} focal_point", as_="alice")
    await block(bot, "console:dora")


async def test_every_audience_kind_skips_a_blocked_chat(bot, inbox):
    await setup_people(bot)
    for audience in ("@dora, @bob", "role:focal_point", "all", "console:dora, @bob"):
        inbox.clear()
        await bot.say(f"/broadcast {audience}; Shelter full", as_="alice")
        await bot.say("1", as_="alice")
        await bot.services.reminders.deliver()
        chats = {key for key, _reply in inbox.sent}
        assert "console:dora" not in chats and "console:bob" in chats, audience
        report = inbox.texts("console:alice")[-1]
        assert "dora: unreachable (blocked the bot)" in report, (audience, report)


async def test_the_preview_names_blocked_chats_and_reminders_skip_them(bot, inbox):
    await setup_people(bot)
    preview = await bot.ask("/broadcast @dora, @bob; Shelter full", as_="alice")
    assert "Unreachable (blocked the bot): dora" in preview
    await bot.say("2", as_="alice")
    await bot.say("/remind in 2 minutes; Call; @dora, @bob", as_="alice")
    await bot.say("1", as_="alice")
    from datetime import timedelta
    bot.clock.advance(timedelta(minutes=3))
    await bot.services.reminders.run_due()
    chats = {key for key, _reply in inbox.sent}
    assert "console:bob" in chats and "console:dora" not in chats


async def test_writing_again_makes_the_chat_reachable(bot, inbox):
    await setup_people(bot)
    await bot.say("/whoami", as_="dora")
    await bot.say("/broadcast @dora; Shelter full", as_="alice")
    await bot.say("1", as_="alice")
    await bot.services.reminders.deliver()
    assert any(key == "console:dora" for key, _reply in inbox.sent)


async def test_the_report_line_is_translated(bot, inbox):
    await setup_people(bot)
    await bot.say("/lang fr", as_="alice")
    await bot.say("/broadcast @dora, @bob; Shelter full", as_="alice")
    await bot.say("1", as_="alice")
    await bot.services.reminders.deliver()
    report = inbox.texts("console:alice")[-1]
    french = bot.services.catalogues.get("fr").gettext("• {name}: unreachable (blocked the bot).")
    assert french != "• {name}: unreachable (blocked the bot)."
    assert french.format(name="dora") in report
