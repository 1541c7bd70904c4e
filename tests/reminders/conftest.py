"""Reminder tests read like conversations; messages the bot sends on its own (through the
outbox) land in a recording transport, as a person in that chat would see them."""
from __future__ import annotations

import pytest

from bot.messages import ChatRef, Reply
from bot.transports.base import SendResult


class RecordingTransport:
    def __init__(self, platform: str = "console"):
        self.platform = platform
        self.sent: list[tuple[str, Reply]] = []

    async def start(self, receive) -> None:
        return None

    async def send(self, chat: ChatRef, reply: Reply, *, idempotency_key=None) -> SendResult:
        self.sent.append((chat.key(), reply))
        return SendResult(True, message_id=str(len(self.sent)))

    async def stop(self) -> None:
        return None

    def texts(self, chat_key: str | None = None) -> list[str]:
        return [reply.plain() for key, reply in self.sent if chat_key in (None, key)]

    def clear(self) -> None:
        self.sent.clear()


@pytest.fixture
def inbox(bot) -> RecordingTransport:
    transport = RecordingTransport()
    bot.services.transports.add(transport)
    return transport
