"""Every test runs on a real database: a fresh SQLite file, or — when
COORDBOT_TEST_DATABASE_URL is set (CI does) — a PostgreSQL server whose schema is reset."""
from __future__ import annotations

import asyncio
import io
import logging
import os

import pytest

from tests.harness import database_under_test, make_bot

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")


async def _reset_postgres(url: str) -> None:
    from sqlalchemy import text

    from bot.db import Database

    db = Database(url)
    try:
        async with db.engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await db.dispose()


@pytest.fixture(autouse=True)
def _restore_root_logging():
    """`coordbot` run in-process (bot.cli.main) installs a handler on the captured stderr of
    that test; later tests would then log into a closed stream."""
    root, own = logging.getLogger(), logging.getLogger("coordbot")
    saved = root.handlers[:], root.level, own.level
    yield
    root.handlers[:], level, own_level = saved
    root.setLevel(level)
    own.setLevel(own_level)


@pytest.fixture
def debug_logs():
    """The bot's own log configuration at COORDBOT_LOG_LEVEL=DEBUG, written into a string."""
    from bot.logs import configure_logging

    stream = io.StringIO()
    configure_logging("DEBUG", stream)
    return stream


@pytest.fixture
def database_url(tmp_path) -> str:
    url = database_under_test()
    if url is None:
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    asyncio.run(_reset_postgres(url))
    return url


@pytest.fixture
async def bot(tmp_path, database_url):
    harness = await make_bot(tmp_path, database_url, admins=["console:alice"])
    yield harness
    await harness.close()
