"""`/verify` rights rest on ids, not on the Telegram username stored on an identity (its owner
can change it and someone else can take it), and stored names follow each message."""
from __future__ import annotations

from sqlalchemy import select

from bot.messages import ChatRef, IncomingMessage
from bot.people import Identity
from tests.directory.verification import ROWS, questions, run


async def say_telegram(bot, user_id: str, username: str | None, text: str,
                       name: str | None = None) -> str:
    message = IncomingMessage(chat=ChatRef("telegram", user_id), sender_id=user_id, text=text,
                              is_direct=True, sender_name=name or user_id,
                              sender_username=username)
    return "\n".join(r.plain() for r in await bot.app.handle(message))


async def usernames(bot) -> dict[str, str | None]:
    async with bot.services.db.session() as session:
        rows = await session.scalars(select(Identity).where(Identity.platform == "telegram"))
        return {i.platform_user_id: i.username for i in rows}


async def test_a_username_taken_over_gives_no_right_to_answer(vbot):
    bot = vbot
    assert ROWS[1].split(",")[8] == "jane_fp"  # ocmw-gent's focal point, by Telegram username
    await say_telegram(bot, "111", "jane_fp", "/start")
    assert await run(bot) == 1
    [(chat, _reply)] = questions(bot, "telegram")
    assert chat == "telegram:111"
    # Jane gives up the username; Mallory takes it and answers for the entry.
    await say_telegram(bot, "111", "jane_new", "/whoami")
    await say_telegram(bot, "222", "jane_fp", "/start")
    answer = await say_telegram(bot, "222", "jane_fp", "/verify ocmw-gent changes")
    assert "Only the focal point" in answer
    assert "need changes" not in await bot.ask("/stale", as_="alice")
    # The person the bot asked (by id) still answers, whatever their username now.
    assert "verified as of" in await say_telegram(bot, "111", "jane_new", "/verify ocmw-gent ok")


async def test_a_stale_username_is_not_kept_on_the_identity_that_gave_it_up(vbot):
    bot = vbot
    await say_telegram(bot, "111", "jane_fp", "/start")
    await say_telegram(bot, "222", "jane_fp", "/start")  # Jane changed hers, Mallory took it
    assert await usernames(bot) == {"111": None, "222": "jane_fp"}
    await say_telegram(bot, "222", None, "/whoami")  # Mallory removed hers
    assert await usernames(bot) == {"111": None, "222": None}


async def test_the_display_name_follows_each_message(vbot):
    bot = vbot
    await say_telegram(bot, "111", "jane_fp", "/start", name="Jane Peeters")
    answer = await say_telegram(bot, "111", "jane_fp", "/whoami", name="Jane Janssens")
    assert "Jane Janssens" in answer
