from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT
from bot.db import Database
from bot.directory.csvformat import read_directory
from bot.directory.index import DirectoryIndex
from bot.directory.service import DirectoryService
from bot.migrations import upgrade
from tests.directory.verification import ROWS
from tests.harness import RecordingTransport, make_bot
from tests.places import load_directory

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "directory" / "directory-sample.csv"
QUERIES = SAMPLE.with_name("directory-queries.csv")


@pytest.fixture(scope="session")
def service() -> DirectoryService:
    """Gazetteer and vocabulary loaded once; tests build their own indexes from it."""
    return DirectoryService(PROJECT_ROOT / "data")


@pytest.fixture(scope="session")
def sample_records(service):
    return read_directory(SAMPLE.read_bytes(), service.gazetteer, service.vocabulary).records


@pytest.fixture(scope="session")
def sample_index(service, sample_records) -> DirectoryIndex:
    return DirectoryIndex(sample_records, service.gazetteer, service.vocabulary)


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
