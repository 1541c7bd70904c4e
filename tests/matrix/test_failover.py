"""Three `coordbot run` instances on one PostgreSQL database and a real Synapse: 100 reminders
fall due while the instance holding the Matrix lease (the one syncing and sending) is killed
with SIGKILL. A standby takes over, and every reminder reaches the person."""
from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from datetime import datetime, timedelta, UTC
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from bot.clock import SystemClock
from bot.people import Identity
from bot.when import When
from tests.harness import make_bot
from tests.processes import coordbot_env, start_run, stop_all

pytestmark = pytest.mark.slow

REMINDERS = 100
ZONE = "Europe/Brussels"


def _env(database_url: str, server, account, data_dir) -> dict:
    return coordbot_env(database_url=database_url, data_dir=data_dir,
                        matrix_homeserver=server.url, matrix_user_id=account.user_id,
                        matrix_password=account.password, load_bundled_data="false",
                        log_level="WARNING", reminders_tick_seconds=1, outbox_claim_seconds=10,
                        leader_retry_seconds=2)


async def _until(condition, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


async def _lease_held(db) -> bool:
    async with db.engine.connect() as connection:
        return bool(await connection.scalar(text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())")))


async def test_a_standby_takes_over_matrix_and_every_reminder_arrives(
        tmp_path, database_url, synapse_up, people):
    if not database_url.startswith("postgresql"):
        pytest.skip("several instances share a PostgreSQL database")
    account = synapse_up.register("coordbot")
    setup = await make_bot(tmp_path / "setup", database_url, clock=SystemClock())
    processes: list[asyncio.subprocess.Process] = []
    try:
        leader = await start_run(_env(database_url, synapse_up, account, tmp_path / "i0"))
        processes.append(leader)
        await _until(lambda: _lease_held(setup.services.db), 60, "a leader")
        alice = await people("alice")
        room = await alice.direct_chat(account.user_id, encrypted=False)
        await alice.ask(room, account.user_id, "!whoami", within=60)
        for n in (1, 2):
            processes.append(await start_run(_env(database_url, synapse_up, account,
                                               tmp_path / f"i{n}")))

        async with setup.services.db.transaction() as session:
            identity = await session.scalar(select(Identity).where(
                Identity.platform == "matrix", Identity.platform_user_id == alice.user_id))
            start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=15)
            zone = ZoneInfo(ZONE)
            for n in range(REMINDERS):
                due = (start + timedelta(seconds=n * 30 // REMINDERS)).astimezone(zone)
                await setup.services.reminders.create(
                    session, kind="note", message=f"rappel {n}",
                    when=When(due.replace(tzinfo=None), ZONE, None),
                    audience=[f"user:{identity.user_id}"], owner=identity.user,
                    origin_chat=f"matrix:{room}")

        def delivered() -> Counter:
            return Counter(event.body.split("\n")[0] for event in
                           alice.messages_from(account.user_id, room)
                           if getattr(event, "body", "").startswith("rappel "))

        async def some_arrived() -> bool:
            return sum(delivered().values()) >= 20

        await _until(some_arrived, 120, "the first reminders")
        leader.send_signal(signal.SIGKILL)
        await leader.wait()
        killed_at, count_at_kill = time.monotonic(), sum(delivered().values())

        async def resumed() -> bool:
            return sum(delivered().values()) > count_at_kill

        await _until(resumed, 60, "a standby to take over")
        failover = time.monotonic() - killed_at
        expected = {f"rappel {n}" for n in range(REMINDERS)}

        async def all_arrived() -> bool:
            return expected <= set(delivered())

        await _until(all_arrived, 180, "every reminder")
        await asyncio.sleep(3)
        counts = delivered()
        duplicates = sum(c - 1 for c in counts.values())
        print(f"\nmatrix failover {failover:.1f} s; {len(counts)} of {REMINDERS} delivered; "
              f"{duplicates} sent twice")
        assert set(counts) == expected
        assert failover <= 30
        assert duplicates <= 50
    finally:
        await stop_all(processes)
        await setup.close()
