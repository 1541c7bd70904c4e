"""A 429 whose `retry_after` is longer than the transport waits out itself pauses Telegram in
the outbox: nothing more goes to Telegram until the pause ends, the messages stay queued and go
out afterwards, and the other platforms are served meanwhile."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.messages import ChatRef, Reply
from bot.outbox import SENT, OutboxMessage
from bot.retry import TELEGRAM_REQUEST, TelegramRetries
from tests.harness import RecordingTransport
from tests.telegram.conftest import start_telegram

FAST = TelegramRetries().scaled(100)
PAUSE = 120   # seconds Telegram asks for: over what the transport itself waits out


async def test_a_long_flood_wait_pauses_telegram_only_and_the_messages_go_out_after(app, fake):
    assert PAUSE > TELEGRAM_REQUEST.max_pause
    telegram = await start_telegram(app, fake, retry=FAST)
    console = RecordingTransport("console")
    app.services.transports.add(console)
    outbox = app.services.outbox
    async with app.services.db.transaction() as session:
        for n in (1, 2):
            await outbox.enqueue(session, ChatRef("telegram", "7001"), Reply(f"news {n}"),
                                 f"pause:{n}")
        await outbox.enqueue(session, ChatRef("console", "alice"), Reply("console news"),
                             "pause:console")
    fake.fail("sendMessage", 429, retry_after=PAUSE)
    try:
        sent_during_pause = await outbox.deliver_pending()
        paused_until = outbox.paused_until("telegram")
        app.clock.advance(timedelta(seconds=PAUSE - 1))
        sent_before_the_end = await outbox.deliver_pending()
        tries_during_pause = len(fake.calls_of("sendMessage"))
        app.clock.advance(timedelta(seconds=2))
        sent_after_pause = await outbox.deliver_pending()
    finally:
        await telegram.stop()

    assert console.texts() == ["console news"], "the other platforms go on"
    assert sent_during_pause == 1 and sent_before_the_end == 0 and sent_after_pause == 2
    assert paused_until is not None
    assert tries_during_pause == 1, "one 429, then nothing sent to Telegram during the pause"
    assert fake.texts_to(7001) == ["news 1", "news 2"], "queued, then sent in order"
    async with app.services.db.session() as session:
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert [row.status for row in rows] == [SENT, SENT, SENT]
    assert [row.attempts for row in rows[:2]] == [2, 1], "the paused message used no attempt"


async def test_the_transport_tells_the_pause_telegram_asked_for(app, fake):
    telegram = await start_telegram(app, fake, retry=FAST)
    fake.fail("sendMessage", 429, retry_after=PAUSE)
    try:
        result = await telegram.send(ChatRef("telegram", "7002"), Reply("hello"))
    finally:
        await telegram.stop()
    assert not result.ok and not result.permanent
    assert result.retry_after == PAUSE
    assert len(fake.calls_of("sendMessage")) == 1, "a long pause is not waited out inside"
