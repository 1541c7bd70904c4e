"""A real Synapse rate-limiting the bot (`M_LIMIT_EXCEEDED` with `retry_after_ms`, provoked by
the admin API's per-user `override_ratelimit`): the transport hands the wait back as
`SendResult.retry_after`, the outbox pauses Matrix, keeps the messages queued and sends them,
in order, once the pause is over."""
from __future__ import annotations

import asyncio
import dataclasses
import json
import urllib.parse
import urllib.request
from datetime import timedelta

import pytest

from bot.messages import ChatRef, Reply
from bot.retry import MATRIX_SEND, MatrixRetries
from tests.matrix.conftest import MatrixBot

pytestmark = pytest.mark.slow

# Every rate limit goes back to the outbox at once (the real policy waits out up to 60 s).
HAND_BACK = MatrixRetries(send=dataclasses.replace(MATRIX_SEND, max_pause=0.0))


def _admin_call(server, token: str, method: str, path: str, body: dict | None = None) -> None:
    request = urllib.request.Request(
        f"{server.url}{path}", method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def _admin_token(server) -> str:
    admin = server.register("admin", admin=True)
    body = json.dumps({"type": "m.login.password", "password": admin.password,
                       "identifier": {"type": "m.id.user", "user": admin.localpart}}).encode()
    request = urllib.request.Request(f"{server.url}/_matrix/client/v3/login", data=body,
                                     method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["access_token"]


async def test_synapse_rate_limit_pauses_matrix_in_the_outbox(tmp_path, database_url,
                                                             synapse_up, people):
    bot = await MatrixBot(tmp_path, database_url, synapse_up, retry=HAND_BACK).start()
    token = _admin_token(synapse_up)
    path = ("/_synapse/admin/v1/users/"
            f"{urllib.parse.quote(bot.user_id)}/override_ratelimit")
    try:
        alice = await people("alice")
        room = await alice.direct_chat(bot.user_id, encrypted=False)
        await alice.ask(room, bot.user_id, "/whoami")
        outbox, clock = bot.services.outbox, bot.services.clock
        async with bot.services.db.transaction() as session:
            for n in range(1, 4):
                await outbox.enqueue(session, ChatRef("matrix", room), Reply(f"Bulletin {n}"),
                                     f"limited:{n}")
        _admin_call(synapse_up, token, "POST", path,
                    {"messages_per_second": 1, "burst_count": 1})
        sent_first = await outbox.deliver_pending()
        paused_until = outbox.paused_until("matrix")
        sent_while_paused = await outbox.deliver_pending()
        _admin_call(synapse_up, token, "DELETE", path)
        await asyncio.sleep(1.1)   # Synapse's own bucket refills in real time
        clock.advance(timedelta(seconds=5))
        sent_after = await outbox.deliver_pending()
        bulletins = [(await alice.next_from(bot.user_id, room, after=n)).body
                     for n in (1, 2, 3)]
    finally:
        await bot.stop()

    print(f"matrix bulletins sent before the rate limit: {sent_first}")
    assert paused_until is not None, "M_LIMIT_EXCEEDED pauses Matrix in the outbox"
    assert sent_first < 3 and sent_while_paused == 0
    assert sent_first + sent_after == 3
    assert bulletins == ["Bulletin 1", "Bulletin 2", "Bulletin 3"]
