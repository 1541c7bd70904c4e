"""What every transport offers the core."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Awaitable, Callable, Protocol

from bot.messages import ChatRef, IncomingMessage, Reply

Receiver = Callable[[IncomingMessage], Awaitable[None]]


@dataclass
class SendResult:
    ok: bool
    message_id: str | None = None
    error: str | None = None
    # True when retrying can never succeed (the chat blocked the bot, the room is gone).
    permanent: bool = False
    # Seconds the platform asked us to wait (Telegram HTTP 429 `retry_after`, Matrix
    # `M_LIMIT_EXCEEDED` `retry_after_ms` / 1000); the outbox pauses that platform.
    retry_after: float | None = None


class Transport(Protocol):
    platform: str

    async def start(self, receive: Receiver) -> None: ...

    async def send(self, chat: ChatRef, reply: Reply, *,
                   idempotency_key: str | None = None) -> SendResult: ...

    async def stop(self) -> None: ...


class Transports:
    """The running transports by platform, so that scheduled jobs can reach any stored chat."""

    def __init__(self) -> None:
        self._by_platform: dict[str, Transport] = {}

    def add(self, transport: Transport) -> None:
        self._by_platform[transport.platform] = transport

    def get(self, platform: str) -> Transport | None:
        return self._by_platform.get(platform)

    def __iter__(self):
        return iter(list(self._by_platform.values()))

    async def send(self, chat: ChatRef, reply: Reply, *,
                   idempotency_key: str | None = None) -> SendResult:
        transport = self.get(chat.platform)
        if transport is None:
            return SendResult(False, error=f"no {chat.platform} transport running")
        return await transport.send(chat, reply, idempotency_key=idempotency_key)
