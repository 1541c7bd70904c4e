"""What the Matrix transport keeps on disk besides nio's own store (device, keys): the sync
token, the events already handled, direct rooms, the choices of the bot's messages, events
waiting for their room key, and the account's credentials. Every file is written atomically."""
from __future__ import annotations

import asyncio
import json
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_write_lock = threading.Lock()


def atomic_write(path: Path, data: str, *, private: bool = False) -> None:
    """Write-then-rename, so a crash leaves the old file or the new one, never half of it."""
    with _write_lock:
        _atomic_write(path, data, private)


def _atomic_write(path: Path, data: str, private: bool) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def bounded(mapping: OrderedDict[Any, Any], limit: int) -> None:
    """Drops the oldest entries beyond `limit`."""
    while len(mapping) > limit:
        mapping.popitem(last=False)


@dataclass
class MatrixState:
    """What must survive a restart besides nio's own store (device, keys)."""

    path: Path
    next_batch: str | None = None
    handled: OrderedDict = field(default_factory=OrderedDict)
    direct_rooms: set[str] = field(default_factory=set)
    # event id of a message the bot sent with choices → [[label, value], ...]
    choices: OrderedDict = field(default_factory=OrderedDict)
    # room → event id of the bot's latest message with choices
    open_choice: dict[str, str] = field(default_factory=dict)
    sent_events: OrderedDict = field(default_factory=OrderedDict)
    # event id → {"room", "source", "first_seen", "requested"}: messages waiting for their
    # room key, kept across restarts (see `bot.transports.matrix_crypto.LateKeys`).
    undecrypted: OrderedDict = field(default_factory=OrderedDict)

    MAX_HANDLED = 5000
    MAX_CHOICES = 1000
    MAX_SENT = 2000

    @classmethod
    def load(cls, path: Path) -> MatrixState:
        state = cls(path)
        if not path.exists():
            return state
        raw = json.loads(path.read_text(encoding="utf-8"))
        state.next_batch = raw.get("next_batch")
        state.handled = OrderedDict((e, True) for e in raw.get("handled", []))
        state.direct_rooms = set(raw.get("direct_rooms", []))
        state.choices = OrderedDict(raw.get("choices", []))
        state.open_choice = dict(raw.get("open_choice", {}))
        state.sent_events = OrderedDict((e, True) for e in raw.get("sent_events", []))
        state.undecrypted = OrderedDict(raw.get("undecrypted", []))
        return state

    def dump(self) -> str:
        return json.dumps({
            "next_batch": self.next_batch, "handled": list(self.handled),
            "direct_rooms": sorted(self.direct_rooms), "choices": list(self.choices.items()),
            "open_choice": self.open_choice, "sent_events": list(self.sent_events),
            "undecrypted": list(self.undecrypted.items())})

    def save(self) -> None:
        atomic_write(self.path, self.dump())

    async def save_async(self) -> None:
        # Snapshot in the event loop, write in a thread (fsync may take milliseconds).
        data = self.dump()
        await asyncio.to_thread(atomic_write, self.path, data)

    def mark_handled(self, event_id: str) -> None:
        self.handled[event_id] = True
        bounded(self.handled, self.MAX_HANDLED)

    def remember_sent(self, room_id: str, event_id: str, choices: list[list[str]]) -> None:
        self.sent_events[event_id] = True
        bounded(self.sent_events, self.MAX_SENT)
        if choices:
            self.choices[event_id] = choices
            bounded(self.choices, self.MAX_CHOICES)
            self.open_choice[room_id] = event_id



class Credentials:
    """The device id and access token of the bot's account (a private file)."""

    def __init__(self, path: Path, homeserver: str, user_id: str):
        self.path = path
        self.homeserver = homeserver
        self.user_id = user_id

    def load(self) -> dict[str, Any]:
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return loaded if isinstance(loaded, dict) else {}

    def save(self, device_id: str, access_token: str) -> None:
        atomic_write(self.path, json.dumps({
            "homeserver": self.homeserver, "user_id": self.user_id,
            "device_id": device_id, "access_token": access_token}), private=True)

    def forget_token(self) -> None:
        stored = self.load()
        stored.pop("access_token", None)
        atomic_write(self.path, json.dumps(stored), private=True)
