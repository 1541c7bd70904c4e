"""A test harness that reads like a conversation:

    bot = await make_bot(tmp_path, admins=["console:alice"])
    assert "admin" in await bot.ask("/whoami", as_="alice")

Messages go through the real router, policy, catalogues and database."""
from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import settings
from sqlalchemy import event, func, make_url, select

from bot.bootstrap import App, build_app
from bot.clock import FakeClock
from bot.config import load_settings
from bot.messages import ChatRef, IncomingMessage, Reply
from bot.transports.base import SendResult

# max_examples of the `ci` Hypothesis profile (tests/conftest.py), the measure of the others.
CI_EXAMPLES = 400

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class ChatHarness:
    def __init__(self, app: App):
        self.app = app
        self.services = app.services
        self.clock = app.services.clock

    def message(self, text: str, *, as_: str = "alice", platform: str = "console",
                chat: str | None = None, direct: bool | None = None, lang: str | None = None,
                **extra) -> IncomingMessage:
        chat_id = chat or as_
        return IncomingMessage(chat=ChatRef(platform, chat_id), sender_id=as_, text=text,
                               is_direct=(chat is None) if direct is None else direct,
                               sender_name=as_, sender_username=as_, language_hint=lang, **extra)

    async def say(self, text: str, **kwargs) -> list[Reply]:
        return await self.app.handle(self.message(text, **kwargs))

    async def ask(self, text: str, **kwargs) -> str:
        """The plain text the user would read, all replies joined."""
        return "\n".join(reply.plain() for reply in await self.say(text, **kwargs))

    async def count(self, model: Any) -> int:
        async with self.services.db.session() as session:
            return await session.scalar(select(func.count()).select_from(model)) or 0

    async def close(self) -> None:
        await self.app.stop()


class RecordingTransport:
    """Stands in for a platform: keeps every message the outbox delivers, per chat, as the
    person in that chat would read it."""

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

    def to(self, chat_id: str) -> list[str]:
        return self.texts(f"{self.platform}:{chat_id}")

    def chats(self) -> set[str]:
        return {key.split(":", 1)[1] for key, _reply in self.sent}

    def clear(self) -> None:
        self.sent.clear()


def _no_fsync(dbapi_connection: Any, _record: object) -> None:
    """A test's database lives as long as the test: waiting for the disk at every commit buys
    nothing (a killed process loses nothing either way; only a crashed machine would)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.close()


def test_settings(tmp_path: Path, database_url: str, **overrides):
    # The flood limit is off unless a test turns it on: the fake clock does not refill it.
    values: dict[str, Any] = dict(data_dir=tmp_path / "var", database_url=database_url,
                                  load_bundled_data=False, rate_limit_burst=0)
    values.update(overrides)
    return load_settings(environ={}, **values)


async def make_bot(tmp_path: Path, database_url: str, *, clock=None, seeded: bool = False,
                   durable: bool = False, **overrides) -> ChatHarness:
    """`seeded`: the bundled directory is loaded — into a new SQLite database by copying one
    where it was imported once (at START), for tests about what people do with the directory
    rather than about importing it. `durable`: SQLite syncs to disk as in production (for
    benchmarks); tests skip the disk waits."""
    if seeded:
        assert clock is None, "the seeded copy was imported at START"
        overrides["load_bundled_data"] = True
    await _start_from_copy(database_url, seeded=seeded)
    settings = test_settings(tmp_path, database_url, **overrides)
    app = build_app(settings, clock=clock or FakeClock(START))
    if app.services.db.is_sqlite and not durable:
        event.listen(app.services.db.engine.sync_engine, "connect", _no_fsync)
    # Tests drive time themselves (FakeClock) and call the due-work methods directly.
    await app.start(start_scheduler=False)
    return ChatHarness(app)


def property_examples(in_ci: int) -> int:
    """How many inputs a property test throws: `in_ci` under the `ci` Hypothesis profile, in
    proportion under the loaded one (HYPOTHESIS_PROFILE, tests/conftest.py)."""
    return max(1, in_ci * settings().max_examples // CI_EXAMPLES)


def database_under_test() -> str | None:
    return os.environ.get("COORDBOT_TEST_DATABASE_URL") or None


# Per test process: the migrated database, and the migrated one with the directory imported.
_templates: dict[bool, Path] = {}


async def _start_from_copy(database_url: str, *, seeded: bool) -> None:
    """A new SQLite file starts as a copy of one migrated (and seeded) once per test process:
    running every migration costs more than most tests, importing the directory seconds. The
    bot still runs `upgrade` and its start-up at start (finding nothing left to do); a file
    that already exists, or a PostgreSQL database, is left as it is."""
    parsed = make_url(database_url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return
    target = Path(parsed.database)
    if await asyncio.to_thread(target.exists):
        return
    if seeded not in _templates:
        _templates[seeded] = await (_seed_template() if seeded else _migrate_template())
    await asyncio.to_thread(shutil.copyfile, _templates[seeded], target)


def _template_folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="coordbot-template-"))
    atexit.register(shutil.rmtree, folder, True)
    return folder


async def _migrate_template() -> Path:
    from bot.db import Database
    from bot.migrations import upgrade

    template = _template_folder() / "migrated.sqlite3"
    db = Database(f"sqlite:///{template}")
    try:
        await upgrade(db)
    finally:
        await db.dispose()  # the last connection closed: the WAL is folded into the file
    return template


async def _seed_template() -> Path:
    folder = _template_folder()
    template = folder / "seeded.sqlite3"
    bot = await make_bot(folder, f"sqlite:///{template}", load_bundled_data=True)
    await bot.close()  # the database disposed of: its WAL folded into the file
    return template
