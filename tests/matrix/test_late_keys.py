"""Issue 17, step 3: nothing waits in memory only. A message that arrives before its room key is
kept in the bot's state file, its key is requested from the sender's device, and it is answered
once the key arrives, also after a restart; a direct message that stays unreadable gets one
translated "please send it again"."""
from __future__ import annotations

import asyncio
import json
import time
from uuid import uuid4

import pytest
from nio import RoomKeyRequest, RoomSendResponse, SyncResponse, ToDeviceMessage
from nio.api import Api

pytestmark = pytest.mark.slow


async def withheld(person, room_id: str, text: str) -> tuple[str, dict]:
    """Sends `text` encrypted with a new group session whose key nobody got yet (as when the
    key's to-device message is delayed); returns the event id and the key to deliver later."""
    olm = person.client.olm
    olm.create_outbound_group_session(room_id)
    session = olm.outbound_group_sessions[room_id]
    key = {"algorithm": "m.megolm.v1.aes-sha2", "room_id": room_id,
           "session_id": session.id, "session_key": session.session_key}
    session.shared = True
    content = olm.group_encrypt(room_id, {"type": "m.room.message",
                                          "content": {"msgtype": "m.text", "body": text}})
    olm.outbound_group_sessions.pop(room_id)   # later messages use a normal, shared session
    method, path, data = Api.room_send(person.client.access_token, room_id,
                                       "m.room.encrypted", content, uuid4())
    response = await person.client._send(RoomSendResponse, method, path, data, (room_id,))
    assert isinstance(response, RoomSendResponse), response
    return response.event_id, key


async def deliver_key(person, bot_user: str, bot_device: str, key: dict) -> None:
    olm = person.client.olm
    device = person.client.device_store[bot_user][bot_device]
    session = olm.session_store.get(device.curve25519)
    payload = olm._olm_encrypt(session, device, "m.room_key", key)
    response = await person.client.to_device(
        ToDeviceMessage("m.room.encrypted", bot_user, bot_device, payload))
    assert not hasattr(response, "status_code"), response


async def until(condition, within: float = 20, what: str = "") -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_message_before_its_key_is_answered_after_a_restart(make_matrix_bot, people):
    bot = await make_matrix_bot()
    irina = await people("irina")
    requests: list = []

    async def key_requests(response):   # nio hides them from to-device callbacks
        requests.extend(e for e in response.to_device_events if isinstance(e, RoomKeyRequest))

    irina.client.add_response_callback(key_requests, SyncResponse)
    room = await irina.direct_chat(bot.user_id, encrypted=True)
    await irina.ask(room, bot.user_id, "!whoami")   # sessions both ways exist now

    event_id, key = await withheld(irina, room, "!whoami")
    await until(lambda: event_id in bot.transport.state.undecrypted, what="the stored event")
    await until(lambda: any(r.session_id == key["session_id"] for r in requests),
                what="a key request to the sender's device")
    bot_device = bot.transport.client.device_id

    await bot.stop()
    stored = json.loads((bot.tmp_path / "matrix-store" / "coordbot-state.json").read_text())
    assert event_id in dict(stored["undecrypted"]), "the waiting event must survive a restart"
    await bot.start()

    await deliver_key(irina, bot.user_id, bot_device, key)
    answer = await irina.next_from(bot.user_id, room, after=1, within=30)
    assert f"matrix:{irina.user_id}" in answer.body
    assert event_id not in bot.transport.state.undecrypted


async def test_message_unreadable_for_long_gets_one_translated_request_to_resend(
        make_matrix_bot, people):
    bot = await make_matrix_bot()
    olena = await people("olena")
    room = await olena.direct_chat(bot.user_id, encrypted=True)
    switched = await olena.ask(room, bot.user_id, "!lang fr")
    bot.transport.unreadable_after = 2.0   # ten minutes in production

    event_id, _key = await withheld(olena, room, "bonjour")
    notice = await olena.next_from(bot.user_id, room, after=1, within=30)
    assert notice.body.startswith("Je n'ai pas pu lire votre message"), notice.body
    assert notice.decrypted

    await olena.ask(room, bot.user_id, "!whoami")   # a later sync: no second notice
    texts = [m.body for m in olena.messages_from(bot.user_id, room)]
    assert sum("pas pu lire" in t for t in texts) == 1, texts
    assert event_id not in bot.transport.state.undecrypted
    assert switched.body
