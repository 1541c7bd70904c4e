"""Every registered command run by every role: the router's decision matches the policy table,
and a refused command changes nothing."""
import re

import pytest
from sqlalchemy import select

from bot.people import User
from bot.policy import POLICY, Role, allowed

ROLE_USERS = {role: f"user_{role.code}" for role in Role}


async def _snapshot(bot):
    async with bot.services.db.session() as session:
        users = await session.scalars(select(User).order_by(User.id))
        return [(u.id, u.role_code, u.locale, u.display_name, u.organisation_id) for u in users]


def test_every_policy_entry_names_a_known_role_and_is_ordered():
    assert all(isinstance(role, Role) for role in POLICY.values())
    assert allowed(Role.ADMIN, "role") and not allowed(Role.COORDINATOR, "role")
    assert not allowed(Role.ADMIN, "no-such-command")


async def test_every_command_as_every_role(bot):
    for role, name in ROLE_USERS.items():
        await bot.say("/whoami", as_=name)
        if role != Role.GUEST:
            await bot.say(f"/role {name} {role.code}", as_="alice")
    for command in sorted(bot.services.router.commands.values(), key=lambda c: c.name):
        for role, name in ROLE_USERS.items():
            before = await _snapshot(bot)
            text = await bot.ask(f"/{command.name}", as_=name)
            refused = "not available to you" in text
            assert refused == (not allowed(role, command.action)), (command.name, role, text)
            if refused:
                assert await _snapshot(bot) == before, (command.name, role)


@pytest.mark.parametrize("platform,prefix", [("console", "/"), ("matrix", "!")])
async def test_help_is_rendered_from_the_policy_table(bot, platform, prefix):
    await bot.say("/whoami", as_="dora", platform=platform)
    text = await bot.ask(f"{prefix}help all", as_="dora", platform=platform)  # all, not short
    for command in bot.services.router.commands.values():
        # A whole command word: `/action` is not shown because `/actions` is.
        shown = re.search(rf"{re.escape(prefix + command.name)}(?![A-Za-z0-9_])", text) is not None
        assert shown == allowed(Role.GUEST, command.action), command.name
