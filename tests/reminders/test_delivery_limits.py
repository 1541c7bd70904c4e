"""Outbox delivery at the platforms' limits, and the broadcast report when sends fail."""
from datetime import timedelta

from bot.outbox import OutboxMessage, RateLimits
from bot.transports.base import SendResult


class RefusingTransport:
    """A Telegram that says 429 (retry after 30 s) once, then "chat not found" for good."""

    platform = "telegram"

    def __init__(self):
        self.calls = 0

    async def start(self, receive):
        return None

    async def stop(self):
        return None

    async def send(self, chat, reply, *, idempotency_key=None):
        self.calls += 1
        if self.calls == 1:
            return SendResult(False, error="Too Many Requests", retry_after=30)
        return SendResult(False, error="Bad Request: chat not found", permanent=True)


def test_telegram_group_limit_and_retry_after_pause():
    limits = RateLimits()
    for _ in range(20):
        assert limits.wait("telegram", "telegram:-100") == 0
        limits.record("telegram", "telegram:-100")
    assert limits.wait("telegram", "telegram:-100") > 50  # 20 per minute in one group
    assert limits.wait("telegram", "telegram:42") == 0  # private chats are not held back
    limits.record("telegram", "telegram:42", retry_after=30)
    assert limits.wait("telegram", "telegram:43") > 25  # the platform asked us to pause


async def test_broadcast_report_names_failures(bot, inbox):
    telegram = RefusingTransport()
    bot.services.transports.add(telegram)
    await bot.say("/whoami", as_="7001", platform="telegram")  # a Telegram user with a direct chat
    assert "Broadcast to 1 chats" in await bot.ask("/broadcast role:guest; Hello", as_="alice")
    await bot.ask("1", as_="alice")
    assert inbox.texts("console:alice") == []  # the 429: retried later, no report yet
    async with bot.services.db.session() as session:
        row = await session.get(OutboxMessage, 1)
    assert row.status == "pending" and row.attempts == 1
    bot.clock.advance(timedelta(seconds=31))
    bot.services.outbox.limits._paused_until.clear()  # the real-time pause is over too
    await bot.services.reminders.deliver()
    [report] = inbox.texts("console:alice")
    assert "0 sent, 1 failed" in report and "chat not found" in report
