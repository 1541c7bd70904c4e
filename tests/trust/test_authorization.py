"""Every command as every role (and as someone who never wrote before), in a direct chat and
in a group: the router's decision follows the policy table, and a refused command changes
nothing."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from bot.conversations import PendingConversation
from bot.people import Identity, User
from bot.policy import POLICY, Role
from bot.trust.models import AuditEntry, Invitation

# Arguments that would change something if the command ran.
ARGUMENTS = {"role": "bob admin", "invite": "admin cpas-liege", "lang": "en",
             "start": "AAAA-BBBB-CCCC-DDDD", "audit": "5"}
MEMBERS = {Role.GUEST: "gail", Role.STAFF: "stan", Role.FOCAL_POINT: "fred",
           Role.COORDINATOR: "cora", Role.ADMIN: "alice"}
REFUSED = "is not available to you"


async def snapshot(bot):
    async with bot.services.db.session() as session:
        users = sorted(tuple(r) for r in await session.execute(
            select(User.id, User.role_code, User.organisation_id, User.entry_id)))
        identities = sorted(tuple(r) for r in await session.execute(
            select(Identity.id, Identity.user_id)))
        counts = [await session.scalar(select(func.count()).select_from(model))
                  for model in (Invitation, AuditEntry, PendingConversation)]
    return users, identities, counts


def without_new_guests(after, before):
    """First contact creates the writer's own guest account and identity: nothing else."""
    users, identities, counts = after
    known = {user[0] for user in before[0]}
    new = [user for user in users if user[0] not in known]
    assert all(role == "guest" and org is None and entry is None
               for _, role, org, entry in new), new
    new_ids = {user[0] for user in new}
    return ([u for u in users if u[0] in known],
            [i for i in identities if i[1] not in new_ids], counts)


async def test_every_command_as_every_role_follows_the_policy(bot):
    for role, name in MEMBERS.items():
        await bot.say("/whoami", as_=name)
        if role not in (Role.GUEST, Role.ADMIN):
            await bot.say(f"/role {name} {role.code}", as_="alice")
    await bot.say("/whoami", as_="bob")
    commands = sorted(bot.services.router.commands.values(), key=lambda c: c.name)
    checked = 0
    for command in commands:
        text = f"/{command.name} {ARGUMENTS.get(command.name, '')}".strip()
        needed = POLICY[command.action]
        senders = list(MEMBERS.items()) + [(Role.GUEST, f"newcomer-{command.name}")]
        for role, name in senders:
            for chat in (None, "group1"):
                before = await snapshot(bot) if role < needed else None
                answer = await bot.ask(text, as_=name, chat=chat)
                assert "something went wrong" not in answer, (text, name, chat)
                if role < needed:
                    assert REFUSED in answer, (text, name, chat, answer)
                    after = await snapshot(bot)
                    assert without_new_guests(after, before) == before, (text, name, chat)
                else:
                    assert REFUSED not in answer, (text, name, chat, answer)
                checked += 1
    assert checked == len(commands) * 6 * 2


async def test_help_shows_each_role_exactly_its_commands(bot):
    for role, name in MEMBERS.items():
        await bot.say("/whoami", as_=name)
        if role not in (Role.GUEST, Role.ADMIN):
            await bot.say(f"/role {name} {role.code}", as_="alice")
    for role, name in MEMBERS.items():
        shown = await bot.ask("/help", as_=name)
        for command in bot.services.router.commands.values():
            visible = re.search(rf"/{command.name}\b", shown) is not None
            assert visible == (role >= POLICY[command.action]), (role, command.name)
