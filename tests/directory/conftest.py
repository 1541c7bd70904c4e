from __future__ import annotations

from pathlib import Path

import pytest

from bot.db import Database
from bot.migrations import upgrade
from tests.directory.verification import ROWS
from tests.harness import RecordingTransport, make_bot
from tests.places import load_directory

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "directory" / "directory-sample.csv"
QUERIES = SAMPLE.with_name("directory-queries.csv")


@pytest.fixture
async def db(database_url):
    database = Database(database_url)
    await upgrade(database)
    yield database
    await database.dispose()


@pytest.fixture
async def vbot(tmp_path, database_url):
    bot = await make_bot(tmp_path, database_url, admins=["console:alice"])
    bot.sent = {}
    for platform in ("console", "telegram", "matrix"):
        bot.sent[platform] = RecordingTransport(platform)
        bot.services.transports.add(bot.sent[platform])
    await load_directory(bot, ROWS)
    yield bot
    await bot.close()
