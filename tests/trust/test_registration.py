from datetime import timedelta

from sqlalchemy import select

from bot.people import Identity, User
from bot.trust.invitations import hash_code
from bot.trust.models import Invitation
from tests.harness import make_bot
from tests.trust.helpers import code_in, invite


async def test_invitation_registers_the_person_with_role_organisation_and_entry(bot):
    text = await bot.ask("/invite focal_point cpas-liege entry-42", as_="alice")
    assert "focal point" in text and "cpas-liege" in text
    code = code_in(text)
    assert f"/start {code}" in text and f"!start {code}" in text
    answer = await bot.ask(f"/start {code}", as_="fiona")
    assert "registered as focal point" in answer and "cpas-liege" in answer
    assert "entry-42" in answer
    whoami = await bot.ask("/whoami", as_="fiona")
    assert "Role: focal point" in whoami and "Organisation: cpas-liege" in whoami


async def test_code_is_stored_hashed_single_use_and_expires(bot):
    code = await invite(bot)
    async with bot.services.db.session() as session:
        stored = list(await session.scalars(select(Invitation.code_hash)))
    assert stored == [hash_code(code)] and code not in stored[0]

    assert "registered" in await bot.ask(f"/start {code}", as_="fiona")
    assert "not valid" in await bot.ask(f"/start {code}", as_="mallory")
    assert "Role: guest" in await bot.ask("/whoami", as_="mallory")

    late = await invite(bot)
    bot.clock.advance(timedelta(days=7, seconds=1))
    assert "not valid" in await bot.ask(f"/start {late}", as_="gina")
    assert "Role: guest" in await bot.ask("/whoami", as_="gina")


async def test_codes_are_forgiving_about_case_spaces_and_lookalike_digits(bot):
    code = await invite(bot)
    sloppy = code.lower().replace("-", " ")
    assert "registered" in await bot.ask(f"/start {sloppy}", as_="fiona")


async def test_start_without_code_keeps_the_welcome(bot):
    text = await bot.ask("/start", as_="bob")
    assert "Hello!" in text and "/help" in text
    assert "!help" in await bot.ask("!start", as_="@bob:example.org", platform="matrix")


async def test_guessing_is_refused_after_five_wrong_codes_even_with_a_right_one(bot):
    code = await invite(bot)
    for _attempt in range(5):
        assert "not valid" in await bot.ask("/start AAAA-BBBB-CCCC-DDDD", as_="mallory")
    text = await bot.ask(f"/start {code}", as_="mallory")
    assert "Too many wrong codes" in text and "60 minutes" in text
    assert "Role: guest" in await bot.ask("/whoami", as_="mallory")
    assert "not valid" in await bot.ask("/start nonsense", as_="ivan")  # others unaffected
    bot.clock.advance(timedelta(hours=1, seconds=1))
    assert "registered" in await bot.ask(f"/start {code}", as_="mallory")


async def test_coordinator_cannot_invite_above_their_role_and_guests_cannot_invite(bot):
    await bot.say("/whoami", as_="carl")
    await bot.say("/role carl coordinator", as_="alice")
    assert "above your own role" in await bot.ask("/invite admin cpas-liege", as_="carl")
    assert "Code:" in await bot.ask("/invite coordinator cpas-liege", as_="carl")
    assert "not available to you" in await bot.ask("/invite staff cpas-liege", as_="guest1")
    assert "Code:" in await bot.ask("/invite admin cpas-liege", as_="alice")


async def test_invite_rejects_bad_arguments_and_group_chats(bot):
    assert "Usage" in await bot.ask("/invite", as_="alice")
    assert "Usage" in await bot.ask("/invite staff", as_="alice")
    assert "Unknown role" in await bot.ask("/invite king cpas", as_="alice")
    assert "Unknown role" in await bot.ask("/invite guest cpas", as_="alice")
    assert "not a valid" in await bot.ask("/invite staff <script>", as_="alice")
    assert "direct chat" in await bot.ask("/invite staff cpas", as_="alice", chat="group1")
    async with bot.services.db.session() as session:
        assert list(await session.scalars(select(Invitation))) == []


async def test_start_with_code_in_a_group_does_not_consume_it(bot):
    code = await invite(bot)
    assert "direct chat" in await bot.ask(f"/start {code}", as_="fiona", chat="group1")
    assert "registered" in await bot.ask(f"/start {code}", as_="fiona")


async def test_telegram_deep_link_when_the_bot_username_is_configured(tmp_path, database_url):
    bot = await make_bot(tmp_path, database_url, admins=["console:alice"],
                         telegram_bot_username="@coordbot_be_bot")
    try:
        text = await bot.ask("/invite staff cpas-liege", as_="alice")
        code = code_in(text)
        assert f"https://t.me/coordbot_be_bot?start={code}" in text
    finally:
        await bot.close()


async def test_no_deep_link_without_a_bot_username(bot):
    assert "t.me" not in await bot.ask("/invite staff cpas-liege", as_="alice")


async def test_a_code_never_lowers_a_role(bot):
    code = await invite(bot, role="staff")
    assert "registered as admin" in await bot.ask(f"/start {code}", as_="alice")


async def test_link_code_joins_a_second_identity_to_the_same_account(bot):
    code = await invite(bot)
    await bot.say(f"/start {code}", as_="fiona")
    await bot.say("/lang de", as_="fiona")
    # The Matrix account already wrote once, so it has its own guest account to merge.
    await bot.say("!whoami", as_="@fiona:example.org", platform="matrix")
    users_before = await bot.count(User)
    link_code = code_in(await bot.ask("/link", as_="fiona"))
    question = await bot.ask(f"!start {link_code}", as_="@fiona:example.org",
                             platform="matrix")
    assert "link code, not an invitation" in question and "account of fiona" in question
    answer = await bot.ask("1", as_="@fiona:example.org", platform="matrix")
    assert "now linked" in answer and "fiona" in answer
    await bot.say("!lang en", as_="@fiona:example.org", platform="matrix")
    whoami = await bot.ask("/whoami", as_="fiona")  # the same account: its language changed
    assert "console:fiona" in whoami and "matrix:@fiona:example.org" in whoami
    assert "Role: focal point" in whoami and "Organisation: cpas-liege" in whoami
    assert await bot.count(User) == users_before - 1
    assert "not valid" in await bot.ask(f"/start {link_code}", as_="mallory")  # used
    fresh = code_in(await bot.ask("/link", as_="fiona"))
    assert "already linked" in await bot.ask(f"/start {fresh}", as_="fiona")
    assert "Role: guest" in await bot.ask("/whoami", as_="mallory")


async def test_link_is_for_registered_people_only(bot):
    assert "not available to you" in await bot.ask("/link", as_="bob")


async def test_registrations_and_invitations_are_audited(bot):
    code = await invite(bot)
    await bot.say(f"/start {code}", as_="fiona")
    await bot.say("/role fiona coordinator", as_="alice")
    text = await bot.ask("/audit", as_="alice")
    assert text.index("role.change") < text.index("invitation.redeem") \
        < text.index("invitation.create")
    assert "from=focal_point" in text and "to=coordinator" in text
    async with bot.services.db.session() as session:
        identities = list(await session.scalars(select(Identity)))
    assert {i.platform_user_id for i in identities} >= {"alice", "fiona"}
