"""Helpers for check-in tests: a transport that records what the outbox delivers, and a way
to register focal points through the chat itself."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bot.messages import ChatRef, Reply
from bot.transports.base import SendResult
from tests.harness import make_bot


@dataclass
class RecordingTransport:
    """Stands in for the console transport: keeps every delivered message per chat."""

    platform: str = "console"
    sent: list[tuple[str, Reply]] = field(default_factory=list)

    async def start(self, receive) -> None:
        return None

    async def send(self, chat: ChatRef, reply: Reply, *, idempotency_key=None) -> SendResult:
        self.sent.append((chat.key(), reply))
        return SendResult(True, message_id=str(len(self.sent)))

    async def stop(self) -> None:
        return None

    def to(self, chat_id: str) -> list[str]:
        return [reply.plain() for key, reply in self.sent if key == f"console:{chat_id}"]

    def chats(self) -> set[str]:
        return {key.split(":", 1)[1] for key, _reply in self.sent}

    def clear(self) -> None:
        self.sent.clear()


async def deliver(bot) -> None:
    await bot.services.outbox.deliver_pending()


async def register(bot, names: list[str], role: str = "focal_point",
                   languages: dict[str, str] | None = None) -> None:
    for name in names:
        await bot.say("/start", as_=name)
        answer = await bot.ask(f"/role {name} {role}", as_="alice")
        assert role.replace("_", " ") in answer
        if languages and name in languages:
            await bot.say(f"/lang {languages[name]}", as_=name)


@pytest.fixture
async def checkin_bot(tmp_path, database_url):
    bot = await make_bot(tmp_path, database_url, admins=["console:alice"])
    bot.transport = RecordingTransport()
    bot.services.transports.add(bot.transport)
    yield bot
    await bot.close()
