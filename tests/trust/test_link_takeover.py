"""Account takeover with a link code passed off as an invitation (issue 11, item 2).

A staff member sends `/link` and asks someone to "register" with the code. Before the fix the
victim's `/start CODE` moved the victim's chat account into the staff member's account at once:
a bootstrap admin made that account admin (COORDBOT_ADMINS re-promotes it), any other victim's
account and reminders moved to the attacker, and only `identity.link` was audited."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.people import Identity
from bot.reminders.models import Schedule
from bot.trust.models import AuditEntry, Invitation
from tests.harness import make_bot
from tests.trust.helpers import code_in, invite


async def registered(bot, name: str, role: str) -> None:
    await bot.say(f"/start {await invite(bot, role=role, org=f'org-{name}')}", as_=name)


async def link_code(bot, name: str) -> str:
    return code_in(await bot.ask("/link", as_=name))


async def account_of(bot, name: str, platform: str = "console") -> int:
    async with bot.services.db.session() as session:
        return await session.scalar(select(Identity.user_id).where(
            Identity.platform == platform, Identity.platform_user_id == name))


async def audit_entries(bot, action: str) -> list[AuditEntry]:
    async with bot.services.db.session() as session:
        return list(await session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                          .order_by(AuditEntry.id)))


async def test_a_link_code_is_visibly_not_an_invitation(bot):
    await registered(bot, "sam", "staff")
    answer = await bot.ask("/link", as_="sam")
    link = code_in(answer)
    invitation = await invite(bot)
    assert link.startswith("LINK-") and not invitation.startswith("LINK")
    assert "not an invitation" in answer and "keep it to yourself" in answer
    # The prefix may be typed sloppily, or left out: the stored kind decides what a code does.
    question = await bot.ask(f"/start {link.lower().replace('-', ' ')}", as_="tom")
    assert "link code, not an invitation" in question


async def test_a_bootstrap_admin_registering_with_a_staff_link_code_keeps_their_account(bot):
    await registered(bot, "sam", "staff")
    sam = await account_of(bot, "sam")
    code = await link_code(bot, "sam")
    answer = await bot.ask(f"/start {code}", as_="alice")
    assert "link code, not an invitation" in answer and "sam" in answer
    assert "linked nothing" in answer and "/invite" in answer
    assert "Role: admin" in await bot.ask("/whoami", as_="alice")
    whoami = await bot.ask("/whoami", as_="sam")
    assert "Role: staff" in whoami and "console:alice" not in whoami
    assert await account_of(bot, "alice") != sam
    assert "linked nothing" in await bot.ask(f"/start {code}", as_="alice")  # still refused
    [refused, _again] = await audit_entries(bot, "identity.link_refused")
    assert refused.target == f"user:{sam}" and refused.details["reason"] == "higher_role"
    assert await audit_entries(bot, "identity.link") == []


async def test_a_higher_role_with_its_own_data_is_never_merged(bot):
    await registered(bot, "vera", "focal_point")
    assert "Saved" in await bot.ask("/remind in 2 hours; Call my lawyer", as_="vera") + \
        await bot.ask("1", as_="vera")
    await registered(bot, "mallory", "staff")
    answer = await bot.ask(f"/start {await link_code(bot, 'mallory')}", as_="vera")
    assert "linked nothing" in answer and "focal point" in answer
    assert "Call my lawyer" in await bot.ask("/reminders", as_="vera")
    assert "Call my lawyer" not in await bot.ask("/reminders", as_="mallory")


async def test_a_victims_reminders_do_not_move_without_a_confirmation_naming_the_account(bot):
    assert "Saved" in await bot.ask("/remind in 2 hours; Call my lawyer", as_="vera") + \
        await bot.ask("1", as_="vera")
    vera = await account_of(bot, "vera")
    await registered(bot, "mallory", "staff")
    code = await link_code(bot, "mallory")
    question = await bot.ask(f"/start {code}", as_="vera")
    assert "link code, not an invitation" in question
    assert "joins the account of mallory" in question and "act here as mallory" in question
    assert "1 reminder or meeting you own" in question
    assert "Merge this chat account into the account of mallory?" in question
    assert await account_of(bot, "vera") == vera  # nothing moved yet, code not used
    assert "Call my lawyer" not in await bot.ask("/reminders", as_="mallory")
    assert "1 to link" in await bot.ask("maybe", as_="vera")
    assert "Nothing was linked" in await bot.ask("2", as_="vera")
    assert await account_of(bot, "vera") == vera
    assert "Call my lawyer" in await bot.ask("/reminders", as_="vera")
    async with bot.services.db.session() as session:
        assert await session.scalar(select(Invitation.used_at).where(
            Invitation.kind == "link")) is None


async def test_a_confirmed_link_merges_and_the_audit_says_who_from_where_into_what(bot):
    await registered(bot, "fiona", "staff")
    fiona = await account_of(bot, "fiona")
    matrix = dict(as_="@fiona:example.org", platform="matrix")
    await bot.say("!remind in 2 hours; Renew the permit", **matrix)
    await bot.say("1", **matrix)
    old = await account_of(bot, "@fiona:example.org", "matrix")
    question = await bot.ask(f"!start {await link_code(bot, 'fiona')}", **matrix)
    assert "Your current account ends." in question
    assert "These move into the account of fiona: 1 reminder or meeting you own" in question
    assert "now linked" in await bot.ask("oui", **matrix)
    assert "Renew the permit" in await bot.ask("/reminders", as_="fiona")
    async with bot.services.db.session() as session:
        assert await session.scalar(select(Schedule.owner_id)) == fiona
        identity = await session.scalar(select(Identity).where(Identity.platform == "matrix"))
    [linked] = await audit_entries(bot, "identity.link")
    assert linked.actor_user_id == old and linked.target == f"user:{fiona}"
    assert linked.details["identity"] == identity.id and linked.details["platform"] == "matrix"
    assert (linked.details["from_user"], linked.details["into_user"]) == (old, fiona)
    assert (linked.details["role_from"], linked.details["role_to"]) == ("guest", "staff")
    [merged] = await audit_entries(bot, "account.merge")
    assert (merged.details["from_user"], merged.details["into_user"]) == (old, fiona)
    assert merged.details["moved"] == {"reminders.schedules": 1}
    text = await bot.ask("/audit", as_="alice")
    assert "account.merge" in text and "identity.link" in text


async def test_a_registered_account_is_told_its_registration_ends(bot):
    await registered(bot, "fiona", "coordinator")
    matrix = dict(as_="@fiona:example.org", platform="matrix")
    code = await invite(bot, role="staff", org="org-matrix", entry="entry-7")
    await bot.say(f"!start {code}", **matrix)
    question = await bot.ask(f"!start {await link_code(bot, 'fiona')}", **matrix)
    assert "Your current account ends, with its role staff, organisation org-matrix and " \
        "directory entry entry-7" in question
    assert "with the role coordinator" in question


async def test_a_code_used_meanwhile_is_refused_at_the_confirmation(bot):
    await registered(bot, "fiona", "staff")
    code = await link_code(bot, "fiona")
    await bot.say(f"/start {code}", as_="twin1")
    await bot.say(f"/start {code}", as_="twin2")
    assert "now linked" in await bot.ask("1", as_="twin1")
    assert "not valid" in await bot.ask("1", as_="twin2")
    assert await account_of(bot, "twin2") != await account_of(bot, "fiona")


async def test_a_role_gained_before_confirming_is_checked_again(bot):
    await registered(bot, "sam", "staff")
    await bot.say(f"/start {await link_code(bot, 'sam')}", as_="gina")
    await bot.say("/role gina coordinator", as_="alice")
    answer = await bot.ask("1", as_="gina")
    # The role change ends the pending question (or, had it survived, the check at the
    # confirmation refuses it): either way nothing is linked.
    assert "linked nothing" in answer or "Your role has changed" in answer
    assert "Role: staff" in await bot.ask("/whoami", as_="sam")
    assert "console:gina" not in await bot.ask("/whoami", as_="sam")
    assert "Role: coordinator" in await bot.ask("/whoami", as_="gina")


async def test_bootstrap_admin_promotions_are_audited(tmp_path, database_url):
    bot = await make_bot(tmp_path, database_url, admins=["console:alice", "console:bea"])
    try:
        await bot.say("/whoami", as_="alice")
        await bot.say("/whoami", as_="bea")
        await bot.say("/role alice staff", as_="bea")
        assert "Role: admin" in await bot.ask("/whoami", as_="alice")  # promoted again
        alice = await account_of(bot, "alice")
        promotions = [e for e in await audit_entries(bot, "role.change")
                      if e.details.get("via") == "COORDBOT_ADMINS"]
        assert [(e.target, e.details["from"], e.details["to"]) for e in promotions
                if e.target == f"user:{alice}"] == [(f"user:{alice}", "guest", "admin"),
                                                    (f"user:{alice}", "staff", "admin")]
        assert all(e.actor_user_id is None for e in promotions)
        assert "via=COORDBOT_ADMINS" in await bot.ask("/audit", as_="bea")
    finally:
        await bot.close()



async def test_an_unanswered_link_question_expires_after_30_minutes(bot):
    await registered(bot, "fiona", "staff")
    await bot.say(f"/start {await link_code(bot, 'fiona')}", as_="twin")
    bot.clock.advance(timedelta(minutes=31))
    assert "now linked" not in await bot.ask("1", as_="twin")
    assert await account_of(bot, "twin") != await account_of(bot, "fiona")
