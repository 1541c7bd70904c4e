"""Restarts of the bot and of the homeserver: nothing lost, nothing answered twice, and no
tight loop while the homeserver is away."""
from __future__ import annotations

import asyncio
import re

import pytest

from bot.retry import MatrixRetries
from tests.matrix.conftest import MatrixBot

pytestmark = pytest.mark.slow


async def test_restart_answers_messages_sent_while_down_exactly_once(
        tmp_path, database_url, synapse_up, people):
    bot = await MatrixBot(tmp_path, database_url, synapse_up).start()
    alice = await people("alice")
    try:
        room = await alice.direct_chat(bot.user_id, encrypted=True)
        await alice.ask(room, bot.user_id, "/whoami")
        device = bot.transport.client.device_id
        await bot.stop()

        for text in ("/help", "housing Liège", "/lang"):
            await alice.say(room, text)
        await bot.start()
        answers = [await alice.next_from(bot.user_id, room, after=n) for n in (1, 2, 3)]
        same_device = bot.transport.client.device_id

        await bot.stop()  # a second restart with nothing new must answer nothing again
        await bot.start()
        sentinel = await alice.ask(room, bot.user_id, "/whoami")
    finally:
        await bot.stop()

    assert same_device == device, "a restart must keep the same device (and its keys)"
    assert "What you can do now" in answers[0].body
    assert "found nothing useful" in answers[1].body
    assert "Your language" in answers[2].body
    assert "Chat identities" in sentinel.body
    assert len(alice.messages_from(bot.user_id, room)) == 5, \
        "every message answered exactly once across restarts"


async def test_restart_after_many_messages_fills_the_gap(tmp_path, database_url, synapse_up,
                                                         people):
    bot = await MatrixBot(tmp_path, database_url, synapse_up).start()
    alice = await people("alice")
    try:
        room = await alice.direct_chat(bot.user_id, encrypted=True)
        await bot.stop()
        for n in range(1, 8):
            await alice.say(room, f"/nothing{n}")
        bot.timeline_limit = 3
        await bot.start()
        answers = [await alice.next_from(bot.user_id, room, after=n) for n in range(7)]
    finally:
        await bot.stop()

    numbers = [int(re.search(r"!nothing(\d+)", a.body).group(1)) for a in answers]
    assert numbers == list(range(1, 8)), "each missed message answered once, in order"


# The transport runs its real retry policies this many times faster: a 30 s outage in 1 s.
SPEED = 30


async def test_homeserver_outage_backs_off_and_recovers(tmp_path, database_url, synapse_up,
                                                       people):
    bot = await MatrixBot(tmp_path, database_url, synapse_up,
                          retry=MatrixRetries().scaled(SPEED)).start()
    try:
        alice = await people("alice")
        room = await alice.direct_chat(bot.user_id, encrypted=True)
        await alice.ask(room, bot.user_id, "/whoami")
        requests = count_requests(bot.transport.client)

        synapse_up.stop()
        try:
            requests.clear()
            await asyncio.sleep(30 / SPEED)   # 30 s of the policy's time
            attempts_while_down = len(requests)
        finally:
            synapse_up.start()
        print(f"matrix requests while the homeserver was down for 30 s (policy time): "
              f"{attempts_while_down}")
        answer = await alice.ask(room, bot.user_id, "/help", timeout=75)
    finally:
        await bot.stop()

    assert 1 <= attempts_while_down <= 15, attempts_while_down
    assert "What you can do now" in answer.body


def count_requests(client) -> list:
    """Wraps the nio client's HTTP call; every request is recorded (the path only)."""
    calls: list[str] = []
    original = client.send

    async def counted(method, path, *args, **kwargs):
        calls.append(path.split("?")[0])
        return await original(method, path, *args, **kwargs)

    client.send = counted
    return calls
