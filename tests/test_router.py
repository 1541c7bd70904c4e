from bot.people import User
from bot.router import parse_command


def test_parse_command_accepts_both_prefixes_and_bot_suffix():
    assert parse_command("/who logement Liège") == ("who", "logement Liège")
    assert parse_command("!help") == ("help", "")
    assert parse_command("/help@coordbot_bot") == ("help", "")
    assert parse_command("/WHO  x") == ("who", "x")
    assert parse_command("hello /help") is None
    assert parse_command("/") is None


async def test_help_lists_only_what_the_user_may_do(bot):
    guest_help = await bot.ask("/help all", as_="bob")  # a guest's /help is short
    admin_help = await bot.ask("/help", as_="alice")
    assert "/whoami" in guest_help and "/role" not in guest_help
    assert "/role" in admin_help


async def test_matrix_users_see_bang_prefix(bot):
    text = await bot.ask("!help all", as_="@bob:localhost", platform="matrix")
    assert "!whoami" in text and "/whoami" not in text
    short = await bot.ask("!help", as_="@bob:localhost", platform="matrix")
    assert "!lang" in short and "/lang" not in short


async def test_unknown_command_gets_a_hint_and_changes_nothing(bot):
    await bot.say("/whoami", as_="bob")
    users = await bot.count(User)
    text = await bot.ask("/frobnicate now", as_="bob")
    assert "Unknown command /frobnicate" in text
    assert await bot.count(User) == users


async def test_bad_input_gets_a_clear_answer(bot):
    assert "empty message" in await bot.ask("   ", as_="bob")
    assert "too long" in await bot.ask("x" * 4001, as_="bob")
    assert "control characters" in await bot.ask("hi\x00there", as_="bob")
    assert "control characters" in await bot.ask("/help\x1b[2J", as_="bob")


async def test_refused_command_says_why_and_changes_nothing(bot):
    await bot.say("/whoami", as_="carol")
    text = await bot.ask("/role alice guest", as_="carol")
    assert "not available to you" in text and "guest" in text
    assert "admin" in await bot.ask("/whoami", as_="alice")


async def test_admin_grants_and_revokes_roles(bot):
    await bot.say("/whoami", as_="bob")
    assert "coordinator" in await bot.ask("/role bob coordinator", as_="alice")
    assert "Role: coordinator" in await bot.ask("/whoami", as_="bob")
    await bot.say("/role @bob guest", as_="alice")
    assert "Role: guest" in await bot.ask("/whoami", as_="bob")


async def test_role_command_rejects_bad_arguments(bot):
    assert "Usage" in await bot.ask("/role", as_="alice")
    assert "Unknown role" in await bot.ask("/role bob king", as_="alice")
    assert "do not know" in await bot.ask("/role nobody staff", as_="alice")
    assert "own role" in await bot.ask("/role alice guest", as_="alice")


async def test_group_chat_ignores_plain_text_but_answers_commands(bot):
    assert await bot.say("good morning all", as_="bob", chat="group1") == []
    assert "/whoami" in await bot.ask("/help all", as_="bob", chat="group1")
    assert "/who " in await bot.ask("/help", as_="bob", chat="group1")


async def test_a_failing_handler_answers_politely_and_rolls_back(bot, monkeypatch):
    from bot.handlers import core

    async def broken(ctx):
        ctx.user.display_name = "changed"
        raise RuntimeError("boom")

    command = bot.services.router.commands["whoami"]
    monkeypatch.setitem(bot.services.router.commands, "whoami",
                        type(command)("whoami", broken, command.summary))
    assert "something went wrong" in await bot.ask("/whoami", as_="bob")
    monkeypatch.undo()
    assert "Name: bob" in await bot.ask("/whoami", as_="bob")
