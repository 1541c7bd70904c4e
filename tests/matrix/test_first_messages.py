"""Issue 17, step 2: the first encrypted messages are readable. Before the first encrypted send
into a room (and after its membership or a member's devices changed) the bot fetches the device
list of every joined and invited member and shares the group session; a message for a person
whose device keys are missing waits (the outbox retries) instead of going out unreadable."""
from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
from nio import AsyncClient

from bot.messages import ChatRef, Reply
from tests.matrix.people import MatrixPerson
from tests.matrix.test_direct import bot_sees, direct_chat_of, group_with, invitation

pytestmark = pytest.mark.slow


async def test_bot_opens_a_direct_chat_and_writes_at_once_the_person_joins_later(
        make_matrix_bot, people):
    coordinator = await people("coordinator")
    bot = await make_matrix_bot()
    sofia = await people("sofia")
    group = await group_with(coordinator, bot, [sofia])
    await bot_sees(bot, group, sofia.user_id)
    room_id = await direct_chat_of(bot, sofia.user_id, wait=20)
    assert room_id

    sent = await bot.transport.send(ChatRef("matrix", room_id), Reply("Bienvenue, Sofia"),
                                    idempotency_key="first:sofia")
    assert sent.ok, sent.error
    await asyncio.sleep(3)                       # she reads her invitation a bit later
    assert await invitation(bot, sofia) == room_id
    await sofia.join(room_id)

    message = await sofia.next_from(bot.user_id, room_id)
    assert message.decrypted and message.body == "Bienvenue, Sofia"


async def test_a_new_device_of_the_person_reads_the_next_message(
        make_matrix_bot, people, synapse_up, tmp_path):
    bot = await make_matrix_bot()
    tom = await people("tom")
    room = await tom.direct_chat(bot.user_id, encrypted=True)
    await tom.ask(room, bot.user_id, "!whoami")

    phone = MatrixPerson(synapse_up.url, tom.account, tmp_path / "tom-phone")
    await phone.start()
    try:
        # Bounded poll: the bot learns of the device from its sync, into matrix-nio's device
        # store, which has no event to wait on.
        deadline = time.monotonic() + 20
        while phone.client.device_id not in bot.transport.client.device_store[tom.user_id] \
                and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        sent = await bot.transport.send(ChatRef("matrix", room), Reply("Pour vos deux appareils"),
                                        idempotency_key="device:tom")
        assert sent.ok, sent.error
        on_phone = await phone.next_from(bot.user_id, room)
        on_laptop = await tom.next_from(bot.user_id, room, after=1)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(phone.stop(), 10)
    assert on_phone.decrypted and on_phone.body == "Pour vos deux appareils"
    assert on_laptop.decrypted and on_laptop.body == "Pour vos deux appareils"


async def test_message_waits_for_a_person_without_device_keys(
        make_matrix_bot, people, synapse_up, tmp_path):
    coordinator = await people("coordinator")
    bot = await make_matrix_bot()
    account = synapse_up.register("nadia")
    # Nadia first uses a client without encryption: the server knows no device key of hers.
    plain = AsyncClient(synapse_up.url, account.user_id)
    await plain.login(account.password, device_name="plain")
    room = await coordinator.group([account.user_id, bot.user_id], encrypted=True)
    await plain.join(room)
    await coordinator.wait_joined(room, bot.user_id)
    await bot_sees(bot, room, account.user_id)
    await plain.close()
    direct = await direct_chat_of(bot, account.user_id, wait=20)
    assert direct

    started = time.monotonic()
    waiting = await bot.transport.send(ChatRef("matrix", direct), Reply("Bonjour Nadia"),
                                       idempotency_key="keys:nadia")
    assert not waiting.ok and not waiting.permanent, "unreadable for her: it must wait"
    assert "device keys" in waiting.error
    assert time.monotonic() - started < 10, "the wait inside one send is bounded"

    nadia = MatrixPerson(synapse_up.url, account, tmp_path / "nadia")   # now with encryption
    await nadia.start()
    try:
        retried = await bot.transport.send(ChatRef("matrix", direct), Reply("Bonjour Nadia"),
                                           idempotency_key="keys:nadia")
        assert retried.ok, retried.error
        await nadia.join(direct)
        message = await nadia.next_from(bot.user_id, direct)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(nadia.stop(), 10)
    assert message.decrypted and message.body == "Bonjour Nadia"


async def test_twenty_new_direct_chats_at_once_are_all_readable(make_matrix_bot, people):
    coordinator = await people("coordinator")
    bot = await make_matrix_bot()
    crowd = [await people(f"p{n}") for n in range(20)]
    group = await group_with(coordinator, bot, crowd)
    for person in crowd:
        await bot_sees(bot, group, person.user_id)
    rooms = [await direct_chat_of(bot, p.user_id, wait=30) for p in crowd]
    assert all(rooms) and len(set(rooms)) == 20

    started = time.monotonic()
    results = await asyncio.gather(*(
        bot.transport.send(ChatRef("matrix", room), Reply(f"Message {n}"),
                           idempotency_key=f"crowd:{n}") for n, room in enumerate(rooms)))
    elapsed = time.monotonic() - started
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    for person, room in zip(crowd, rooms, strict=True):
        await person.join(room)
    messages = await asyncio.gather(*(p.next_from(bot.user_id, room, within=60)
                                      for p, room in zip(crowd, rooms, strict=True)))
    assert [m.body for m in messages] == [f"Message {n}" for n in range(20)]
    assert all(m.decrypted for m in messages)
    print(f"20 first messages into new direct chats sent in {elapsed:.2f} s")
