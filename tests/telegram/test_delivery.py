"""Delivery through faults, blocked chats, broadcasts, restarts and webhooks."""
from __future__ import annotations

import asyncio
import socket

import aiohttp
from sqlalchemy import select

from bot.messages import ChatRef, Reply
from bot.outbox import FAILED, SENT, OutboxMessage
from bot.people import KnownChat
from bot.retry import TELEGRAM_REQUEST, TelegramRetries
from tests.telegram.conftest import ADMIN, start_telegram

FAST = TelegramRetries().scaled(100)   # the same backoff, a hundred times faster


async def test_flood_control_server_errors_and_dropped_connections_are_survived(
        fake, app):
    telegram = await start_telegram(app, fake, retry=FAST)
    try:
        await _survive_faults(fake)
    finally:
        await telegram.stop()


async def _survive_faults(fake):
    fake.fail("sendMessage", 429, retry_after=1)
    fake.send_text(ADMIN, "/techo one")
    await fake.wait_for_sent(ADMIN, 1)
    fake.fail("sendMessage", 500)
    fake.send_text(ADMIN, "/techo two")
    await fake.wait_for_sent(ADMIN, 2)
    fake.fail("sendMessage", "drop")
    fake.send_text(ADMIN, "/techo three")
    await fake.wait_for_sent(ADMIN, 3)
    fake.fail("getUpdates", 500)
    fake.fail("getUpdates", "drop")
    fake.send_text(ADMIN, "/techo four")
    await fake.wait_for_sent(ADMIN, 4)
    assert fake.texts_to(ADMIN) == [f"You said: {n}" for n in ("one", "two", "three", "four")]
    assert fake.faults_served == {"429": 1, "500": 2, "drop": 2}


async def test_network_retries_are_bounded(fake, app):
    telegram = await start_telegram(app, fake, retry=FAST)
    fake.fail("sendMessage", 500, count=100)
    try:
        result = await telegram.send(ChatRef("telegram", "5005"), Reply("hello"))
    finally:
        await telegram.stop()
    assert not result.ok and not result.permanent and result.retry_after is None
    assert len(fake.calls_of("sendMessage")) == TELEGRAM_REQUEST.attempts


async def test_blocked_chat_is_permanent_and_marked_unreachable(app, fake, telegram):
    fake.send_text(5005, "/whoami")
    await fake.wait_for_sent(5005)
    fake.block(5005)
    result = await telegram.send(ChatRef("telegram", "5005"), Reply("a reminder"))
    assert not result.ok and result.permanent and "blocked" in result.error
    async with app.services.db.session() as session:
        chat = await session.get(KnownChat, "telegram:5005")
    assert chat.unreachable_since is not None
    assert len(fake.calls_of("sendMessage")) == 2   # tried once, not again


async def test_broadcast_through_the_outbox(app, fake, telegram):
    chats = [ChatRef("telegram", str(6000 + n)) for n in range(20)]
    fake.block(6007)
    async with app.services.db.transaction() as session:
        for chat in chats:
            await app.services.outbox.enqueue(session, chat, Reply("**Meeting** at 10:00"),
                                              f"broadcast-1:{chat.key()}", source="broadcast-1")
    assert await app.services.outbox.deliver_pending() == 19
    assert await app.services.outbox.deliver_pending() == 0
    for chat in chats:
        expected = [] if chat.chat_id == "6007" else ["Meeting at 10:00"]
        assert fake.texts_to(int(chat.chat_id)) == expected
    async with app.services.db.session() as session:
        rows = {row.chat_key: row for row in await session.scalars(select(OutboxMessage))}
        blocked_chat = await session.get(KnownChat, "telegram:6007")
    assert rows["telegram:6007"].status == FAILED and rows["telegram:6007"].attempts == 1
    assert "blocked" in rows["telegram:6007"].last_error
    assert sum(row.status == SENT for row in rows.values()) == 19
    assert blocked_chat.unreachable_since is not None


async def test_updates_sent_while_down_are_handled_once_after_restart(app, fake):
    transport = await start_telegram(app, fake)
    fake.send_text(ADMIN, "/techo before")
    await fake.wait_for_sent(ADMIN, 1)
    await transport.stop()

    for n in range(5):
        fake.send_text(7000 + n, f"/techo while down {n}")
    fake.send_text(ADMIN, "/techo while down")
    transport = await start_telegram(app, fake)
    await fake.wait_for(lambda: len(fake.sent_to(ADMIN)) == 2
                        and all(fake.sent_to(7000 + n) for n in range(5)))
    await transport.stop()

    transport = await start_telegram(app, fake)
    fake.send_text(ADMIN, "/techo after")
    await fake.wait_for_sent(ADMIN, 3)
    await transport.stop()
    assert fake.texts_to(ADMIN) == ["You said: before", "You said: while down",
                                    "You said: after"]
    assert [fake.texts_to(7000 + n) for n in range(5)] == \
        [[f"You said: while down {n}"] for n in range(5)]


async def test_crash_before_the_offset_was_stored_handles_nothing_twice(app, fake):
    transport = await start_telegram(app, fake)

    async def crash_before_storing_the_offset(offset):
        return None

    transport.updates.advance = crash_before_storing_the_offset
    updates = [fake.send_text(8000 + n, "/techo once") for n in range(3)]
    await fake.wait_for(lambda: all(fake.sent_to(8000 + n) for n in range(3)))
    await transport.stop()
    fake.redeliver_unconfirmed(updates)   # Telegram never saw the acknowledgement either

    transport = await start_telegram(app, fake)
    fake.send_text(ADMIN, "/techo marker")
    await fake.wait_for_sent(ADMIN, 1)
    await transport.stop()
    assert [len(fake.sent_to(8000 + n)) for n in range(3)] == [1, 1, 1]
    assert set(u["update_id"] for u in updates) <= set(fake.delivered_ids[3:])  # redelivered


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_webhook_mode_checks_the_secret_and_skips_redeliveries(app, fake):
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    settings = app.services.settings
    settings.telegram_webhook_url, settings.telegram_webhook_listen = url, f"127.0.0.1:{port}"
    settings.telegram_webhook_secret = "s3cret-Token_1"
    transport = await start_telegram(app, fake)
    try:
        assert fake.webhook["url"] == url and fake.webhook["secret_token"] == "s3cret-Token_1"
        update = fake.send_text(ADMIN, "/techo hooked")
        await fake.wait_for_sent(ADMIN, 1)
        async with aiohttp.ClientSession() as http:
            async with http.post(url, json=update,
                                 headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}) as r:
                assert r.status == 403
            async with http.post(url, json=update) as r:
                assert r.status == 403
            async with http.post(url, json=update, headers={
                    "X-Telegram-Bot-Api-Secret-Token": "s3cret-Token_1"}) as r:
                assert r.status == 200   # a redelivery: acknowledged, not handled again
        fake.send_text(ADMIN, "/techo again")
        await fake.wait_for_sent(ADMIN, 2)
        assert fake.texts_to(ADMIN) == ["You said: hooked", "You said: again"]
        assert not fake.calls_of("getUpdates")
    finally:
        await transport.stop()


async def test_a_rejected_token_is_told_without_the_token(app, fake):
    from bot.transports.telegram import TelegramTransport

    transport = TelegramTransport("42:not-the-right-token", app.services.db, api_url=fake.url)
    try:
        await transport.start(lambda message: None)
        raise AssertionError("a rejected token must stop the start")
    except RuntimeError as exc:
        assert "rejected the bot token" in str(exc) and "not-the-right" not in str(exc)
    finally:
        await transport.stop()


def test_coordbot_run_starts_telegram_only_with_a_token(app):
    from bot.transports.registry import configured_transports

    assert [t.platform for t in configured_transports(app.services.settings, app.services)] \
        == ["telegram"]
    app.services.settings.telegram_token = ""
    assert configured_transports(app.services.settings, app.services) == []


async def test_blocking_the_bot_marks_the_chat_at_once(app, fake, telegram):
    fake.send_text(5006, "/whoami")
    await fake.wait_for_sent(5006)
    fake.block_bot(5006)
    for _ in range(100):   # bounded: the update is handled within a poll
        async with app.services.db.session() as session:
            chat = await session.get(KnownChat, "telegram:5006")
        if chat.unreachable_since is not None:
            break
        await asyncio.sleep(0.05)
    assert chat.unreachable_since is not None
    assert not fake.calls_of("sendMessage")[1:]   # found out without sending anything
