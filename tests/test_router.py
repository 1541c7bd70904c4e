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

    async def broken(ctx):
        ctx.user.display_name = "changed"
        raise RuntimeError("boom")

    command = bot.services.router.commands["whoami"]
    monkeypatch.setitem(bot.services.router.commands, "whoami",
                        type(command)("whoami", broken, command.summary))
    assert "something went wrong" in await bot.ask("/whoami", as_="bob")
    monkeypatch.undo()
    assert "Name: bob" in await bot.ask("/whoami", as_="bob")


async def test_a_user_error_is_the_answer_and_everything_the_message_changed_is_undone(
        bot, monkeypatch):
    from bot.router import UserError

    async def refuses_after_a_change(ctx):
        ctx.user.display_name = "changed"
        raise UserError("That date is in the past.")

    command = bot.services.router.commands["whoami"]
    monkeypatch.setitem(bot.services.router.commands, "whoami",
                        type(command)("whoami", refuses_after_a_change, command.summary))
    assert await bot.ask("/whoami", as_="bob") == "That date is in the past."
    monkeypatch.undo()
    assert "Name: bob" in await bot.ask("/whoami", as_="bob")


async def test_a_direct_only_command_is_refused_in_a_group_before_its_handler_runs(
        bot, monkeypatch):
    ran = []

    async def personal(ctx):
        ran.append(ctx.command)
        return "your code"

    command = bot.services.router.commands["whoami"]
    monkeypatch.setitem(bot.services.router.commands, "whoami", type(command)(
        "whoami", personal, command.summary, direct_only=True))
    refusal = await bot.ask("/whoami", as_="bob", chat="group1")
    assert "only in a direct chat" in refusal and "/whoami" in refusal and ran == []
    assert await bot.ask("/whoami", as_="bob") == "your code" and ran == ["whoami"]
    matrix = await bot.ask("!whoami", as_="@bob:localhost", platform="matrix", chat="!g:localhost")
    assert "!whoami" in matrix and ran == ["whoami"]


def test_the_command_prefix_is_the_platforms():
    from bot.messages import command_prefix

    assert command_prefix("matrix") == command_prefix("matrix:!room:server") == "!"
    assert command_prefix("telegram:42") == command_prefix("console") == "/"
    assert command_prefix(None) == "/"


async def test_a_command_word_in_the_persons_language_or_a_typo_is_named_back(bot):
    french = await bot.ask("/rappel vendredi à 14h; appeler le CPAS", as_="bob", lang="fr")
    assert "/remind" in french and "/rappel" in french
    assert "/meeting" in await bot.ask("/vergadering morgen om 10u", as_="bob", lang="nl")
    assert "/meeting" in await bot.ask("/réunion demain", as_="bob", lang="fr")
    assert "/remind" in await bot.ask("/remnd tomorrow 9:00; call", as_="erin", lang="en")
    matrix = await bot.ask("!einladen", as_="@bob:localhost", platform="matrix")
    assert "!invite" in matrix and "/invite" not in matrix
    # Nothing close: the plain answer, and nothing was run.
    plain = await bot.ask("/frobnicate", as_="erin")
    assert "Unknown command /frobnicate" in plain and "Did you mean" not in plain
