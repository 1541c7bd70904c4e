"""Every test runs on a real database: a fresh SQLite file, or — when
COORDBOT_TEST_DATABASE_URL is set (CI does) — a PostgreSQL server whose schema is reset.

`make test` runs the tests on several pytest-xdist workers: each worker then has its own
PostgreSQL database (created here, named after the worker), and every test that uses the
session's Synapse runs on one worker, so that one Synapse is started, not one per worker."""
from __future__ import annotations

import asyncio
import functools
import io
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import settings
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.config import PROJECT_ROOT
from bot.db import async_url
from bot.directory.csvformat import read_directory
from bot.directory.gazetteer import Gazetteer
from bot.directory.index import DirectoryIndex
from bot.directory.service import DirectoryService
from bot.directory.vocabulary import Vocabulary
from tests.directory.conftest import SAMPLE
from tests.harness import CI_EXAMPLES, database_under_test, make_bot

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

# How hard the property tests try (tests.harness.property_examples scales their own counts with it):
# under `ci` a test throws the count it names (a test that names none: CI_EXAMPLES), under `dev`
# a quarter of it for a quick local run.
settings.register_profile("ci", max_examples=CI_EXAMPLES, print_blob=True)
settings.register_profile("dev", max_examples=CI_EXAMPLES // 4)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# Tests that share one session-scoped server, by the fixture they use → their xdist group.
SHARED_SERVERS = {"synapse": "synapse"}


def pytest_configure(config: pytest.Config) -> None:
    url, worker = database_under_test(), os.environ.get("PYTEST_XDIST_WORKER")
    if url is not None and worker is not None and url.startswith("postgres"):
        # The environment, not a fixture: tests that start `coordbot` processes read it too.
        os.environ["COORDBOT_TEST_DATABASE_URL"] = asyncio.run(_worker_database(url, worker))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for fixture, group in SHARED_SERVERS.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.xdist_group(group))


async def _worker_database(url: str, worker: str) -> str:
    """A new, empty database for this worker on the same server (replacing one a previous
    run left behind); returns its URL."""
    parsed = make_url(url)
    name = f"{parsed.database or 'postgres'}_{worker}"
    engine = create_async_engine(async_url(url), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


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


Loaded = TypeVar("Loaded")


@pytest.fixture(autouse=True, scope="session")
def _bundled_reference_data_read_once() -> Iterator[None]:
    """The gazetteer and vocabulary of the bundled data are read-only once loaded: every bot of
    a test process shares one of each (as the directory tests' `service` fixture does) instead
    of reading and indexing the same files again for every test."""
    with pytest.MonkeyPatch.context() as patch:
        for kind in (Gazetteer, Vocabulary):
            original = vars(kind)["load"].__func__
            patch.setattr(kind, "load", classmethod(_once_for_bundled_data(original)))
        yield


def _once_for_bundled_data(load: Callable[[Any, Path], Loaded]) -> Callable[[Any, Path], Loaded]:
    bundled = (PROJECT_ROOT / "data").resolve()

    @functools.cache
    def bundled_once(kind: Any) -> Loaded:
        return load(kind, bundled)

    @functools.wraps(load)
    def load_bundled_once(kind: Any, data_dir: Path) -> Loaded:
        if Path(data_dir).resolve() == bundled:
            return bundled_once(kind)
        return load(kind, data_dir)
    return load_bundled_once


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


# The directory sample, for the directory tests and the fuzz tests (tests/trust): one per process.
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
