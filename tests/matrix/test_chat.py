"""The bot on a real Synapse, driven by people using matrix-nio."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


async def test_direct_encrypted_chat_answers_help_with_html_notice(matrix_bot, people):
    alice = await people("alice")
    room = await alice.direct_chat(matrix_bot.user_id, encrypted=True)

    answer = await alice.ask(room, matrix_bot.user_id, "/help all")

    assert alice.client.rooms[room].encrypted
    assert answer.decrypted, "the bot's answer in an encrypted room must be encrypted"
    assert answer.source["content"]["msgtype"] == "m.notice"
    assert "What you can do here" in answer.body
    assert "<code>" in answer.formatted_body
    assert "!whoami" in answer.body


async def test_plain_direct_chat_gets_core_answers(matrix_bot, people):
    bob = await people("bob")
    room = await bob.direct_chat(matrix_bot.user_id, encrypted=False)

    whoami = await bob.ask(room, matrix_bot.user_id, "!whoami")
    free_text = await bob.ask(room, matrix_bot.user_id, "housing Liège")

    assert not getattr(whoami, "decrypted", False)
    assert f"matrix:{bob.user_id}" in whoami.body
    assert "found nothing useful" in free_text.body


async def test_group_room_answers_commands_and_mentions_only(matrix_bot, people):
    alice, bob = await people("alice"), await people("bob")
    room = await alice.group([bob.user_id, matrix_bot.user_id], encrypted=True)
    await bob.join(room)
    await alice.wait_joined(room, matrix_bot.user_id)
    await alice.wait_joined(room, bob.user_id)

    await alice.say(room, "hello Bob, shall we meet at the CPAS?")
    answer = await alice.ask(room, matrix_bot.user_id, "!whoami")
    await bob.next_from(matrix_bot.user_id, room)  # bob has seen that answer too
    mention = await bob.ask(room, matrix_bot.user_id,
                            f"{matrix_bot.account.localpart}: housing Liège")

    seen_by_alice = await alice.next_from(matrix_bot.user_id, room, after=1)

    # Events of a room are answered in order: an answer to the chatter would have come first.
    assert f"matrix:{alice.user_id}" in answer.body, "chatter before the command got an answer"
    assert "found nothing useful" in mention.body
    assert seen_by_alice.event_id == mention.event_id


async def test_invite_from_a_user_not_allowed_is_refused(make_matrix_bot, people, synapse_up):
    mallory = await people("mallory")
    bot = await make_matrix_bot(matrix_allowed=[":example.org"])
    response = await mallory.client.room_create(invite=[bot.user_id], is_direct=True)

    for _ in range(100):
        await mallory.client.sync(timeout=100)
        room = mallory.client.rooms[response.room_id]
        if bot.user_id not in room.users:
            break
    assert bot.user_id not in mallory.client.rooms[response.room_id].users
    assert response.room_id not in bot.transport.client.rooms


async def test_verified_only_ignores_and_withholds_keys_from_unverified_devices(
        make_matrix_bot, people):
    import asyncio

    from nio import MegolmEvent

    from bot.messages import ChatRef, Reply

    bot = await make_matrix_bot(matrix_trust="verified_only")
    alice = await people("alice")
    room = await alice.direct_chat(bot.user_id, encrypted=True)

    asked = await alice.say(room, "/help")
    for _ in range(200):
        if asked in bot.transport.state.handled:
            break
        await asyncio.sleep(0.05)
    sent = await bot.transport.send(ChatRef("matrix", room), Reply("Reminder for verified devices"))
    unreadable = await alice_next_event(alice, bot.user_id, room)

    assert asked in bot.transport.state.handled
    assert sent.ok
    assert isinstance(unreadable, MegolmEvent), "an unverified device must not get the keys"
    assert not alice.messages_from(bot.user_id, room), "the message from an unverified " \
        "device must not be answered"


async def alice_next_event(person, sender: str, room: str, timeout: float = 20):
    import asyncio
    for _ in range(int(timeout / 0.05)):
        for room_id, event in person.received:
            if room_id == room and event.sender == sender:
                return event
        await asyncio.sleep(0.05)
    raise AssertionError("nothing arrived")


async def test_bot_leaves_a_room_once_everyone_else_left(matrix_bot, people):
    import asyncio

    alice = await people("alice")
    room = await alice.direct_chat(matrix_bot.user_id, encrypted=False)
    await alice.ask(room, matrix_bot.user_id, "/whoami")

    await alice.client.room_leave(room)
    # The homeserver shows the bot's leave before the bot's own "forget" request is answered:
    # wait for both.
    for _ in range(200):
        joined = (await matrix_bot.transport.client.joined_rooms()).rooms
        if room not in joined and room not in matrix_bot.transport.client.rooms:
            break
        await asyncio.sleep(0.1)

    assert room not in joined
    assert room not in matrix_bot.transport.client.rooms


async def test_bot_runs_with_an_access_token_instead_of_a_password(
        make_matrix_bot, people, synapse_up):
    from nio import AsyncClient

    account = synapse_up.register("coordbot")
    login = AsyncClient(synapse_up.url, account.user_id)
    token = (await login.login(account.password, device_name="coordbot")).access_token
    await login.close()
    bot = await make_matrix_bot(account=account, matrix_password="", matrix_access_token=token)
    alice = await people("alice")
    room = await alice.direct_chat(bot.user_id, encrypted=True)

    answer = await alice.ask(room, bot.user_id, "!whoami")

    assert f"matrix:{alice.user_id}" in answer.body
