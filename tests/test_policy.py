"""Every registered command run by every role: the router's decision matches the policy table,
and a refused command changes nothing; the table matches the one documented for people."""
import re

import pytest

from bot.config import PROJECT_ROOT
from bot.policy import POLICY, ROLE_LABELS, Role, allowed
from tests.trust.snapshots import changed, snapshot

ROLE_USERS = {role: f"user_{role.code}" for role in Role}
SECURITY_DOC = PROJECT_ROOT / "docs" / "security.md"


def _documented_table() -> list[tuple[Role, list[str]]]:
    """The "who can see and do what" table of docs/security.md: its rows in order, each a role
    and the commands that row adds (`/invite admin` on the admin row adds no command)."""
    rows = []
    for line in SECURITY_DOC.read_text(encoding="utf-8").splitlines():
        row = re.fullmatch(r"\| (guest|staff|focal point|coordinator|admin)\b[^|]*\| (.+) \|", line)
        if row:
            role = Role.parse(row[1].replace(" ", "_"))
            assert role is not None
            rows.append((role, re.findall(r"`/([a-z_]+)`", row[2])))
    return rows


def test_every_policy_entry_names_a_known_role_and_is_ordered():
    assert all(isinstance(role, Role) for role in POLICY.values())
    ascending = " < ".join(ROLE_LABELS[role] for role in sorted(Role))
    assert f"({ascending})" in SECURITY_DOC.read_text(encoding="utf-8")
    table = _documented_table()
    assert [role for role, _commands in table] == sorted(Role)  # one row a role, lowest first
    for role, commands in table:
        assert commands, role
        for command in commands:  # a row lists what that role is the lowest to be allowed
            assert POLICY[command] == role, (command, POLICY[command], role)
    assert allowed(Role.ADMIN, "role") and not allowed(Role.COORDINATOR, "role")
    assert not allowed(Role.ADMIN, "no-such-command")


async def test_every_command_as_every_role(bot):
    for role, name in ROLE_USERS.items():
        await bot.say("/whoami", as_=name)
        if role != Role.GUEST:
            await bot.say(f"/role {name} {role.code}", as_="alice")
    for command in sorted(bot.services.router.commands.values(), key=lambda c: c.name):
        for role, name in ROLE_USERS.items():
            before = await snapshot(bot)
            text = await bot.ask(f"/{command.name}", as_=name)
            refused = "not available to you" in text
            assert refused == (not allowed(role, command.action)), (command.name, role, text)
            if refused:
                assert changed(before, await snapshot(bot)) == [], (command.name, role)


@pytest.mark.parametrize("platform,prefix", [("console", "/"), ("matrix", "!")])
async def test_help_is_rendered_from_the_policy_table(bot, platform, prefix):
    await bot.say("/whoami", as_="dora", platform=platform)
    text = await bot.ask(f"{prefix}help all", as_="dora", platform=platform)  # all, not short
    for command in bot.services.router.commands.values():
        # A whole command word: `/action` is not shown because `/actions` is.
        shown = re.search(rf"{re.escape(prefix + command.name)}(?![A-Za-z0-9_])", text) is not None
        assert shown == allowed(Role.GUEST, command.action), command.name
