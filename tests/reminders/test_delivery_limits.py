"""The broadcast report when sends fail (pacing itself is each transport's job)."""
from datetime import timedelta

from bot.outbox import OutboxMessage
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


async def test_broadcast_report_names_failures(bot, inbox):
    telegram = RefusingTransport()
    bot.services.transports.add(telegram)
    await bot.say("/whoami", as_="7001", platform="telegram")  # a Telegram user with a direct chat
    assert "1 recipient: 7001." in await bot.ask("/broadcast role:guest; Hello", as_="alice")
    await bot.ask("1", as_="alice")
    assert inbox.texts("console:alice") == []  # the 429: retried later, no report yet
    async with bot.services.db.session() as session:
        row = await session.get(OutboxMessage, 1)
    assert row.status == "pending" and row.attempts == 1
    bot.clock.advance(timedelta(seconds=31))
    await bot.services.reminders.deliver()
    [report] = inbox.texts("console:alice")
    assert "0 sent, 1 failed" in report and "chat not found" in report
