"""Pacing for the Telegram transport: Telegram allows a bot about 30 messages a second overall
and 20 a minute in one group; beyond that it answers 429 with `retry_after`.

Every send first waits for its chat (a pause set after a 429, the group's one-minute window),
then takes the next free slot of the global pace. Slots are handed out in order, so a
broadcast to many chats runs at the global pace while a 429 only holds back the chat it
concerned (the retried message takes a later slot)."""
from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

GLOBAL_PER_SECOND = 30.0
GROUP_PER_MINUTE = 20
GROUP_WINDOW = 60.0


def is_group(chat_id: int) -> bool:
    """Telegram gives private chats positive ids, groups and channels negative ones."""
    return chat_id < 0


class RateLimiter:
    def __init__(self, per_second: float = GLOBAL_PER_SECOND,
                 group_per_minute: int = GROUP_PER_MINUTE,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        self.interval = 1.0 / per_second
        self.group_per_minute = group_per_minute
        self.clock = clock
        self.sleep = sleep
        self._next_slot = 0.0
        self._paused_until: dict[int, float] = {}
        self._group_sends: dict[int, deque[float]] = {}
        self._group_locks: dict[int, asyncio.Lock] = {}

    async def acquire(self, chat_id: int) -> None:
        await self._wait_for_pause(chat_id)
        if is_group(chat_id):
            await self._wait_for_group(chat_id)
        else:
            await self._wait_for_slot()

    def pause(self, chat_id: int, seconds: float) -> None:
        """After a 429 for `chat_id`: nothing goes to that chat for `seconds`."""
        until = self.clock() + max(0.0, seconds)
        self._paused_until[chat_id] = max(until, self._paused_until.get(chat_id, 0.0))

    async def _wait_for_pause(self, chat_id: int) -> None:
        for _ in range(1000):  # bounded: each round sleeps until the latest pause ends
            remaining = self._paused_until.get(chat_id, 0.0) - self.clock()
            if remaining <= 0:
                self._paused_until.pop(chat_id, None)
                return
            await self.sleep(remaining)

    async def _wait_for_group(self, chat_id: int) -> None:
        lock = self._group_locks.setdefault(chat_id, asyncio.Lock())
        async with lock:
            sends = self._group_sends.setdefault(chat_id, deque())
            for _ in range(self.group_per_minute + 1):
                now = self.clock()
                while sends and sends[0] <= now - GROUP_WINDOW:
                    sends.popleft()
                if len(sends) < self.group_per_minute:
                    break
                # a millisecond past the window's edge, so the oldest send surely expires
                await self.sleep(sends[0] + GROUP_WINDOW - now + 0.001)
            await self._wait_for_slot()
            sends.append(self.clock())   # the moment it really goes out

    async def _wait_for_slot(self) -> None:
        now = self.clock()
        slot = max(now, self._next_slot)
        self._next_slot = slot + self.interval
        if slot > now:
            await self.sleep(slot - now)
