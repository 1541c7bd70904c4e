"""Issue 17, step 1: a private chat with everyone the bot knows. A coordinator reaches, by their
Matrix id, a person met only in a group room: the bot uses the direct chat that person already
opened (even if nobody wrote there), or opens an encrypted one itself; an invitation declined is
reported like a chat that blocked the bot."""
from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import select

from bot.messages import ChatRef, Reply
from bot.outbox import SENT, OutboxMessage
from bot.people import Identity, KnownChat

pytestmark = pytest.mark.slow


async def bot_and_coordinator(make_matrix_bot, people):
    coordinator = await people("coordinator")
    bot = await make_matrix_bot(admins=[f"matrix:{coordinator.user_id}"])
    office = await coordinator.direct_chat(bot.user_id, encrypted=True)
    return bot, coordinator, office


async def group_with(coordinator, bot, members) -> str:
    room = await coordinator.group([m.user_id for m in members] + [bot.user_id], encrypted=True)
    for member in members:
        await member.join(room)
    for member in [bot, *members]:
        await coordinator.wait_joined(room, member.user_id)
    return room


async def bot_sees(bot, room_id: str, user_id: str, within: float = 20) -> None:
    """Until the bot's own sync shows `user_id` joined in `room_id` and its direct-chat pass
    has run."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        room = bot.transport.client.rooms.get(room_id)
        if room and user_id in room.users and user_id not in room.invited_users:
            await bot.transport.direct.wait_idle()
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the bot never saw {user_id} in {room_id}")


async def direct_chat_of(bot, user_id: str, *, wait: float = 0) -> str | None:
    """The person's recorded direct chat; with `wait`, until there is one (bounded)."""
    deadline = time.monotonic() + wait
    while True:
        async with bot.services.db.session() as session:
            found = await session.scalar(select(Identity.direct_chat_id).where(
                Identity.platform == "matrix", Identity.platform_user_id == user_id))
        if found or time.monotonic() >= deadline:
            return found
        await asyncio.sleep(0.1)


async def invitation(bot, person, within: float = 20) -> str:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if person.client.invited_rooms:
            await bot.transport.direct.wait_idle()
            return next(iter(person.client.invited_rooms))
        await asyncio.sleep(0.05)
    raise AssertionError(f"{person.user_id} got no invitation")


async def broadcast(coordinator, office, bot, audience: str, text: str) -> str:
    preview = await coordinator.ask(office, bot.user_id, f"!broadcast {audience}; {text}")
    if "Send it?" not in preview.body:
        return preview.body
    confirmed = await coordinator.ask(office, bot.user_id, "1")
    # "on its way", or already its delivery report when the outbox was quicker
    assert "Broadcast B" in confirmed.body, confirmed.body
    await bot.services.outbox.deliver_pending()
    return preview.body


async def test_person_known_only_from_a_group_gets_a_new_encrypted_direct_chat(
        make_matrix_bot, people):
    bot, coordinator, office = await bot_and_coordinator(make_matrix_bot, people)
    pieter = await people("pieter")
    group = await group_with(coordinator, bot, [pieter])
    await bot_sees(bot, group, pieter.user_id)   # pieter never wrote anything

    # The bot opened a direct chat itself: encrypted, is_direct, in its m.direct.
    room_id = await invitation(bot, pieter)
    await bot.transport._opened_room(room_id)   # the bot's sync shows the invitation too
    assert await direct_chat_of(bot, pieter.user_id) == room_id
    assert room_id in bot.transport.direct.m_direct[pieter.user_id]
    member = await bot.transport.client.room_get_state_event(room_id, "m.room.member",
                                                             pieter.user_id)
    assert member.content.get("membership") == "invite", (type(member), member)
    assert member.content["is_direct"] is True
    assert bot.transport.client.rooms[room_id].encrypted

    preview = await broadcast(coordinator, office, bot, pieter.user_id, "Réunion jeudi 10h")
    assert "1 recipient: pieter" in preview, preview
    assert "never wrote" not in preview

    await pieter.join(room_id)
    message = await pieter.next_from(bot.user_id, room_id)
    assert message.decrypted and "Réunion jeudi 10h" in message.body
    async with bot.services.db.session() as session:
        rows = list(await session.scalars(select(OutboxMessage).where(
            OutboxMessage.source.like("broadcast:%"))))
    assert [r.status for r in rows] == [SENT] and rows[0].chat_key == f"matrix:{room_id}"


async def test_existing_silent_direct_chat_is_used(make_matrix_bot, people):
    bot, coordinator, office = await bot_and_coordinator(make_matrix_bot, people)
    anna = await people("anna")
    silent = await anna.direct_chat(bot.user_id, encrypted=True)   # opened, nobody wrote
    await bot_sees(bot, silent, anna.user_id)
    group = await group_with(coordinator, bot, [anna])
    await bot_sees(bot, group, anna.user_id)

    assert await direct_chat_of(bot, anna.user_id) == silent
    assert not anna.client.invited_rooms, "no second chat when one exists"

    preview = await broadcast(coordinator, office, bot, anna.user_id, "Hello Anna")
    assert "1 recipient: anna" in preview, preview
    message = await anna.next_from(bot.user_id, silent)
    assert message.decrypted and "Hello Anna" in message.body


async def test_declined_invitation_is_reported_like_a_blocked_chat(make_matrix_bot, people):
    bot, coordinator, office = await bot_and_coordinator(make_matrix_bot, people)
    jan = await people("jan")
    group = await group_with(coordinator, bot, [jan])
    await bot_sees(bot, group, jan.user_id)
    room_id = await invitation(bot, jan)

    await jan.client.room_leave(room_id)   # declines
    deadline = time.monotonic() + 20
    # Bounded poll: the room list is matrix-nio's, changed by its sync loop, with no event to
    # wait on.
    while room_id in bot.transport.client.rooms and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    async with bot.services.db.session() as session:
        chat = await session.get(KnownChat, f"matrix:{room_id}")
    assert chat is not None and chat.unreachable_since is not None

    preview = await coordinator.ask(office, bot.user_id,
                                    f"!broadcast {jan.user_id}, {coordinator.user_id}; Hello")
    assert "1 recipient: coordinator" in preview.body, preview.body
    assert "Unreachable (blocked the bot): jan" in preview.body, preview.body
    await bot.transport.direct.wait_idle()
    assert set(jan.client.invited_rooms) <= {room_id}, "the bot must not invite again"
    assert await direct_chat_of(bot, jan.user_id) == room_id


async def test_message_queued_before_the_decline_fails_for_good(make_matrix_bot, people):
    bot, coordinator, office = await bot_and_coordinator(make_matrix_bot, people)
    lotte = await people("lotte")
    group = await group_with(coordinator, bot, [lotte])
    await bot_sees(bot, group, lotte.user_id)
    room_id = await invitation(bot, lotte)
    await lotte.client.room_leave(room_id)
    deadline = time.monotonic() + 20
    # Bounded poll: the room list is matrix-nio's, changed by its sync loop, with no event to
    # wait on.
    while room_id in bot.transport.client.rooms and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)

    result = await bot.transport.send(ChatRef("matrix", room_id), Reply("late news"),
                                      idempotency_key="t:late")
    assert not result.ok and result.permanent   # the outbox marks the row failed at once


async def test_direct_chat_that_became_a_group_is_replaced(make_matrix_bot, people):
    bot, coordinator, office = await bot_and_coordinator(make_matrix_bot, people)
    eva = await people("eva")
    first = await eva.direct_chat(bot.user_id, encrypted=True)
    await eva.ask(first, bot.user_id, "!whoami")
    assert await direct_chat_of(bot, eva.user_id) == first

    await eva.client.room_invite(first, coordinator.user_id)   # a third person: now a group
    await coordinator.join(first)
    await bot_sees(bot, first, coordinator.user_id)
    room_id = await invitation(bot, eva)

    assert room_id != first
    assert await direct_chat_of(bot, eva.user_id, wait=10) == room_id
    # eva writing in the former direct chat (now a group) does not make it private again
    await eva.ask(first, bot.user_id, "!whoami")
    await bot.transport.direct.wait_idle()
    assert await direct_chat_of(bot, eva.user_id) == room_id


async def test_no_invitation_to_people_of_servers_not_allowed(make_matrix_bot, people):
    coordinator = await people("coordinator")
    bot = await make_matrix_bot(matrix_allowed=[coordinator.user_id])
    guest = await people("guest")   # same test server, but not in COORDBOT_MATRIX_ALLOWED
    group = await group_with(coordinator, bot, [guest])
    await bot_sees(bot, group, guest.user_id)
    await direct_chat_of(bot, coordinator.user_id, wait=10)
    await bot.transport.direct.wait_idle()

    assert not guest.client.invited_rooms
    assert await direct_chat_of(bot, guest.user_id) is None
