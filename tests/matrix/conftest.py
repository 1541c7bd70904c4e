"""Fixtures for the Matrix tests: one real Synapse per test session, fresh users per test, the
bot running its real Matrix transport, and matrix-nio clients acting as people."""
from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from tests.harness import make_bot
from tests.matrix.people import MatrixPerson
from tests.matrix.synapse import SynapseServer


@pytest.fixture(scope="session")
def synapse(tmp_path_factory):
    # No skip: when Synapse cannot be installed or started the Matrix tests must fail loudly.
    server = SynapseServer(tmp_path_factory.mktemp("synapse"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def synapse_up(synapse):
    """The session server, started again if a test stopped it."""
    synapse.start()
    return synapse


class MatrixBot:
    """The application with its Matrix transport, restartable on the same store and database."""

    def __init__(self, tmp_path: Path, database_url: str, server: SynapseServer, *,
                 features: list | None = None, account=None, retry=None, **overrides):
        self.tmp_path = tmp_path
        self.database_url = database_url
        self.server = server
        self.account = account or server.register("coordbot")
        self.user_id = self.account.user_id
        self.overrides = overrides
        self.features = features or []
        self.retry = retry  # a `MatrixRetries`; the real policies when None
        self.harness = None
        self.transport = None
        self.timeline_limit = None  # a small sync timeline, to force gaps

    async def start(self):
        from bot.transports.matrix import MatrixTransport

        settings = dict(matrix_homeserver=self.server.url, matrix_user_id=self.account.user_id,
                        matrix_password=self.account.password,
                        matrix_store_path=str(self.tmp_path / "matrix-store"))
        settings.update(self.overrides)
        self.harness = await make_bot(self.tmp_path, self.database_url, **settings)
        if self.features:
            from bot.handlers import FEATURES
            from bot.router import Router
            self.harness.services.router = Router([*FEATURES, *self.features])
        self.transport = MatrixTransport(self.harness.services.settings, sync_timeout_ms=5000,
                                         db=self.harness.services.db, retry=self.retry)
        if self.timeline_limit:
            self.transport.sync_filter = {**self.transport.sync_filter, "room": {
                **self.transport.sync_filter["room"], "timeline": {"limit": self.timeline_limit}}}
        await self.harness.app.serve([self.transport])
        assert await self.transport.wait_ready(30), "the bot never completed a sync"
        return self

    @property
    def services(self):
        return self.harness.services

    async def stop(self):
        if self.harness is not None:
            await self.harness.close()
            self.harness = None


@pytest.fixture
async def matrix_bot(tmp_path, database_url, synapse_up):
    bot = await MatrixBot(tmp_path, database_url, synapse_up).start()
    yield bot
    await bot.stop()


@pytest.fixture
async def make_matrix_bot(tmp_path, database_url, synapse_up):
    """`await make_matrix_bot(features=[...], **settings)` → a started bot (stopped at the end)."""
    bots: list[MatrixBot] = []

    async def make(**kwargs) -> MatrixBot:
        bot = await MatrixBot(tmp_path, database_url, synapse_up, **kwargs).start()
        bots.append(bot)
        return bot

    yield make
    for bot in bots:
        await bot.stop()


@pytest.fixture
async def people(tmp_path, synapse_up):
    """`await people("alice")` → a logged-in, syncing person with encryption."""
    created: list[MatrixPerson] = []

    async def make(name: str = "user") -> MatrixPerson:
        account = synapse_up.register(name)
        person = MatrixPerson(synapse_up.url, account, tmp_path / f"person-{account.localpart}")
        await person.start()
        created.append(person)
        return person

    yield make
    for person in created:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(person.stop(), 10)
