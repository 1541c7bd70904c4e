"""One poller per platform account: among instances on one PostgreSQL database, one holds the
lease and runs the transport; a standby takes over when the leader's connection dies."""
import asyncio

import pytest
from sqlalchemy import text

from bot.leader import Lease
from tests.harness import RecordingTransport, make_bot


class PollingTransport(RecordingTransport):
    running: list[str] = []

    def __init__(self, name: str):
        super().__init__("telegram")
        self.name = name

    async def start(self, receive) -> None:
        PollingTransport.running.append(self.name)

    async def stop(self) -> None:
        PollingTransport.running.remove(self.name)


async def _wait_until(condition, seconds: float = 10.0) -> None:
    for _step in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached in time")


async def test_a_standby_takes_over_when_the_leader_dies(bot, tmp_path, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("several instances share a PostgreSQL database; SQLite has one runner")
    PollingTransport.running = []
    standby_bot = await make_bot(tmp_path / "b", database_url)
    try:
        first = await bot.app.lead("telegram:42", lambda: PollingTransport("a"), retry_seconds=0.2)
        second = await standby_bot.app.lead("telegram:42", lambda: PollingTransport("b"),
                                            retry_seconds=0.2)
        assert first.leading and not second.leading
        await asyncio.sleep(0.6)
        assert PollingTransport.running == ["a"]
        assert bot.services.transports.get("telegram") is not None
        assert standby_bot.services.transports.get("telegram") is None

        # The leader's connection is cut (its machine died): PostgreSQL frees the lock.
        async with standby_bot.services.db.engine.connect() as connection:
            await connection.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                "AND granted AND pid <> pg_backend_pid() AND database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())"))
        await _wait_until(lambda: PollingTransport.running == ["b"])
        assert second.leading and not first.leading
        assert bot.services.transports.get("telegram") is None
    finally:
        await standby_bot.close()


async def test_on_sqlite_the_one_runner_always_leads(bot):
    lease = Lease(bot.services.db, "matrix:@bot:localhost")
    if lease.shared:
        pytest.skip("SQLite only")
    PollingTransport.running = []
    loop = await bot.app.lead("matrix:@bot:localhost", lambda: PollingTransport("solo"))
    assert loop.leading and PollingTransport.running == ["solo"]
    await bot.close()
    assert PollingTransport.running == []
