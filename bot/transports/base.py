"""What every transport offers the core."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from collections.abc import Awaitable, Callable

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
    # The chats this process delivers to for its platform; None means every chat of the
    # platform. A console serves only its own person, so other people's queued messages wait
    # for their own console instead of printing in this terminal.
    served_chats: frozenset[str] | None

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

    def remove(self, platform: str) -> None:
        self._by_platform.pop(platform, None)

    def get(self, platform: str) -> Transport | None:
        return self._by_platform.get(platform)

    def __iter__(self):
        return iter(list(self._by_platform.values()))

    def serves(self, chat_key: str) -> bool:
        transport = self.get(chat_key.partition(":")[0])
        if transport is None:
            return False
        served = getattr(transport, "served_chats", None)
        return served is None or chat_key in served

    def scopes(self) -> list[tuple[str, frozenset[str] | None]]:
        """(platform, served chat keys or None for all): what the outbox may claim here."""
        return [(platform, getattr(transport, "served_chats", None))
                for platform, transport in self._by_platform.items()]

    async def send(self, chat: ChatRef, reply: Reply, *,
                   idempotency_key: str | None = None) -> SendResult:
        transport = self.get(chat.platform)
        if transport is None or not self.serves(chat.key()):
            return SendResult(False, error=f"no {chat.platform} transport for this chat here")
        return await transport.send(chat, reply, idempotency_key=idempotency_key)
