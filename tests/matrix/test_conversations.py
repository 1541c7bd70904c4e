"""Numbered choices, reactions, files and messages the bot sends on its own."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, update

from bot.messages import ChatRef, Reply
from bot.outbox import SENT, OutboxMessage
from tests.matrix.features import CSV, PNG, TEST_FEATURE
from tests.matrix.people import is_file

pytestmark = pytest.mark.slow


async def test_choices_are_numbered_and_accept_number_text_and_reaction(make_matrix_bot, people):
    bot = await make_matrix_bot(features=[TEST_FEATURE])
    alice = await people("alice")
    room = await alice.direct_chat(bot.user_id, encrypted=True)

    question = await alice.ask(room, bot.user_id, "/pick")
    by_number = await alice.ask(room, bot.user_id, "2")
    await alice.ask(room, bot.user_id, "/pick")
    by_text = await alice.ask(room, bot.user_id, "green")
    second = await alice.ask(room, bot.user_id, "/pick")
    before = len(alice.messages_from(bot.user_id, room))
    await alice.react(room, second.event_id, "1️⃣")
    by_reaction = await alice.next_from(bot.user_id, room, after=before)

    assert "1. Red\n2. Blue\n3. Green" in question.body
    assert "<ol><li>Red</li>" in question.formatted_body
    assert by_number.body == "You chose Blue."
    assert by_text.body == "You chose Green."
    assert by_reaction.body == "You chose Red."


async def test_choice_answered_by_number_in_a_group(make_matrix_bot, people):
    bot = await make_matrix_bot(features=[TEST_FEATURE])
    alice, bob = await people("alice"), await people("bob")
    room = await alice.group([bob.user_id, bot.user_id])
    await bob.join(room)
    await alice.wait_joined(room, bot.user_id)

    await alice.ask(room, bot.user_id, "!pick")
    answer = await alice.ask(room, bot.user_id, "3")

    assert answer.body == "You chose Green."


async def test_file_export_arrives_as_encrypted_file(make_matrix_bot, people):
    bot = await make_matrix_bot(features=[TEST_FEATURE])
    alice = await people("alice")
    room = await alice.direct_chat(bot.user_id, encrypted=True)

    await alice.say(room, "/sendfile")
    notice = await alice.next_from(bot.user_id, room)
    csv = await alice.next_from(bot.user_id, room, after=1)
    await alice.say(room, "/sendfile png")
    png = await alice.next_from(bot.user_id, room, after=3)

    assert notice.body == "Your export is attached."
    assert is_file(csv) and csv.source["content"]["msgtype"] == "m.file"
    assert "file" in csv.source["content"], "a file in an encrypted room must be encrypted"
    assert await alice.file_content(csv) == CSV
    assert png.source["content"]["msgtype"] == "m.image"
    assert await alice.file_content(png) == PNG


async def test_file_sent_by_a_person_reaches_the_core(make_matrix_bot, people):
    bot = await make_matrix_bot(features=[TEST_FEATURE])
    alice = await people("alice")
    plain = await alice.direct_chat(bot.user_id, encrypted=False)
    secret = await alice.direct_chat(bot.user_id, encrypted=True)

    await alice.send_file(plain, "list.csv", CSV, "text/csv")
    from_plain = await alice.next_from(bot.user_id, plain)
    await alice.send_file(secret, "list.csv", CSV, "text/csv")
    from_secret = await alice.next_from(bot.user_id, secret)

    expected = f"Received list.csv: {len(CSV)} bytes, text/csv, first line name,city"
    assert from_plain.body == expected
    assert from_secret.body == expected


async def deliver_eventually(services, attempts: int = 5) -> int:
    """A first send into a room the bot has just joined can fail while device keys are still
    being fetched; the outbox then retries after a back-off. Here the back-off is skipped."""
    for _ in range(attempts):
        delivered = await services.outbox.deliver_pending()
        if delivered:
            return delivered
        async with services.db.transaction() as session:
            await session.execute(update(OutboxMessage).values(not_before=services.clock.now()))
        await asyncio.sleep(1)
    return 0


async def test_outbox_message_is_delivered_once_to_a_room(matrix_bot, people):
    alice, bob = await people("alice"), await people("bob")
    room = await alice.group([bob.user_id, matrix_bot.user_id], encrypted=True)
    await alice.wait_joined(room, matrix_bot.user_id)
    services = matrix_bot.services
    # The bot has read alice's encrypted message and answered it, so it knows her device: what
    # is tested here is the outbox, not the first message into a room created a moment ago.
    await alice.ask(room, matrix_bot.user_id, "!whoami")
    before = len(alice.messages_from(matrix_bot.user_id, room))

    async with services.db.transaction() as session:
        await services.outbox.enqueue(session, ChatRef("matrix", room),
                                      Reply("Reminder: **coordination meeting** at 14:00"),
                                      "reminder:42:2026-03-02")
    delivered = await deliver_eventually(services)
    reminder = await alice.next_from(matrix_bot.user_id, room, after=before)
    # A crash after sending but before the outbox row was marked: the resend reuses the
    # transaction id, and the homeserver returns the same event instead of a second message.
    again = await matrix_bot.transport.send(ChatRef("matrix", room),
                                            Reply("Reminder: **coordination meeting** at 14:00"),
                                            idempotency_key="reminder:42:2026-03-02")

    async with services.db.session() as session:
        row = await session.scalar(select(OutboxMessage))
    assert delivered == 1 and row.status == SENT
    assert reminder.body == "Reminder: coordination meeting at 14:00"
    assert "<b>coordination meeting</b>" in reminder.formatted_body
    assert again.ok and again.message_id == row.platform_message_id == reminder.event_id


async def test_files_in_a_group_reach_the_bot_when_addressed(make_matrix_bot, people):
    bot = await make_matrix_bot(features=[TEST_FEATURE])
    alice, bob = await people("alice"), await people("bob")
    room = await alice.group([bob.user_id, bot.user_id], encrypted=True)
    await bob.join(room)
    await alice.wait_joined(room, bot.user_id)
    await alice.wait_joined(room, bob.user_id)
    localpart = bot.account.localpart

    await alice.send_file(room, "holiday.csv", CSV, "text/csv")          # not for the bot
    await alice.send_file(room, "list.csv", CSV, "text/csv", caption=f"{localpart}: the list")
    mentioned = await alice.next_from(bot.user_id, room)
    await alice.send_file(room, "pill.csv", CSV, "text/csv", caption="for the bot",
                          mentions=[bot.user_id])
    pill = await alice.next_from(bot.user_id, room, after=1)
    await alice.send_file(room, "import.csv", CSV, "text/csv", caption="!upload")
    command = await alice.next_from(bot.user_id, room, after=2)

    assert mentioned.body.startswith("Received list.csv:"), mentioned.body
    assert pill.body.startswith("Received pill.csv:"), pill.body
    assert command.body == f"Imported import.csv ({len(CSV)} bytes)"
    assert not any("holiday" in m.body for m in alice.messages_from(bot.user_id, room))
