"""Every command as every role (and as someone who never wrote before), in a direct chat and
in a group: the router's decision follows the policy table, and a refused command changes
nothing."""
from __future__ import annotations

import re

from bot.messages import Attachment
from bot.policy import POLICY, Role
from tests.directory.conftest import SAMPLE
from tests.directory.test_chat import load_sample
from tests.trust.snapshots import changed, snapshot

# Arguments that would change something if the command ran.
ARGUMENTS = {"role": "bob admin", "invite": "admin cpas-liege", "lang": "en",
             "start": "AAAA-BBBB-CCCC-DDDD", "audit": "5", "import": "replace",
             "remind": "tomorrow 9:00; x; all", "meeting": "tomorrow 9:00; x; all",
             "deadline": "tomorrow 9:00; x; all", "broadcast": "all; hello",
             "edit": "R1; tomorrow 10:00; y", "cancel": "R1", "skip": "R1", "acks": "R1",
             "rounds": "open weekly_local; 2026-03-06 17:00; all", "results": "weekly_local",
             "export": "weekly_local", "away": "2026-12-24 2027-01-02", "checkin": "",
             "verify": "cpas-liege ok", "forms": "add", "stale": "", "ack": "R1 x yes"}
MEMBERS = {Role.GUEST: "gail", Role.STAFF: "stan", Role.FOCAL_POINT: "fred",
           Role.COORDINATOR: "cora", Role.ADMIN: "alice"}
REFUSED = "is not available to you"
CSV = Attachment("directory.csv", SAMPLE.read_bytes(), "text/csv")


async def newcomer_rows(bot, name: str, platform: str = "console") -> tuple[set, set]:
    """The guest account, identity and chat a first message creates, if any."""
    async with bot.services.db.session() as session:
        identity = await bot.services.people.identity(session, platform, name)
        if identity is None:
            return set(), set()
        chats = {f"{platform}:{identity.direct_chat_id}"} if identity.direct_chat_id else set()
        return {identity.user_id}, chats


async def test_every_command_as_every_role_follows_the_policy(bot):
    for role, name in MEMBERS.items():
        await bot.say("/whoami", as_=name)
        if role not in (Role.GUEST, Role.ADMIN):
            await bot.say(f"/role {name} {role.code}", as_="alice")
    await bot.say("/whoami", as_="bob")
    await load_sample(bot)  # something for refused commands to act on
    await bot.say("/meeting every monday 10:00; Team; all", as_="alice")
    await bot.say("1", as_="alice")
    await bot.say("/rounds open weekly_local; 2026-03-06 17:00; all", as_="alice")
    assert "is open" in await bot.ask("1", as_="alice")
    commands = sorted(bot.services.router.commands.values(), key=lambda c: c.name)
    checked = 0
    for command in commands:
        text = f"/{command.name} {ARGUMENTS.get(command.name, '')}".strip()
        needed = POLICY[command.action]
        senders = list(MEMBERS.items()) + [(Role.GUEST, f"newcomer-{command.name}")]
        for role, name in senders:
            for chat in (None, "group1"):
                new = name.startswith("newcomer") and chat is None
                ignore = dict(ignore_chats={"console:group1"})
                before = await snapshot(bot, **ignore) if role < needed else None
                answer = await bot.ask(text, as_=name, chat=chat, attachment=CSV)
                assert "something went wrong" not in answer, (text, name, chat)
                if role < needed:
                    assert REFUSED in answer, (text, name, chat, answer)
                    users, chats = await newcomer_rows(bot, name) if new else (set(), set())
                    ignore["ignore_chats"] = ignore["ignore_chats"] | chats
                    after = await snapshot(bot, ignore_users=users, **ignore)
                    assert changed(before, after) == [], (text, name, chat)
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
        shown = await bot.ask("/help all", as_=name)  # a guest's /help is short
        for command in bot.services.router.commands.values():
            visible = re.search(rf"/{command.name}\b", shown) is not None
            assert visible == (role >= POLICY[command.action]), (role, command.name)
