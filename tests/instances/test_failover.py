"""Three `coordbot run` instances on one PostgreSQL database, Telegram through our own Bot
API server on 127.0.0.1: 1,000 reminders due in the same minute and a 500-chat broadcast,
while the leader (the one receiving and sending for the bot account) is killed with SIGKILL
mid-way and restarted. Nothing is lost; a standby takes over within 30 s; a message is sent
twice only if it was in flight at the instant of the kill (Telegram has no idempotency key,
so no system can rule that out), and the test reports how many."""
from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from datetime import datetime, timedelta, UTC
from zoneinfo import ZoneInfo

import pytest

from bot.clock import SystemClock
from bot.messages import ChatRef, Reply
from bot.people import Identity, User
from bot.when import When
from tests.harness import make_bot
from tests.processes import coordbot_env, start_run, stop_all
from tests.telegram.fake_bot_api import TOKEN, FakeBotApi

REMINDERS, BROADCAST = 1000, 500
ZONE = "Europe/Brussels"
FIRST_CHAT = 700_000


def _env(database_url: str, api_url: str, data_dir) -> dict:
    return coordbot_env(database_url=database_url, telegram_token=TOKEN, telegram_api_url=api_url,
                        data_dir=data_dir, load_bundled_data="false", log_level="WARNING",
                        reminders_tick_seconds=1, outbox_claim_seconds=10,
                        leader_retry_seconds=2)


async def _prepare(tmp_path, database_url: str) -> None:
    """People, 1,000 reminders due in the same minute (from now + 20 s) and a broadcast."""
    bot = await make_bot(tmp_path / "setup", database_url, clock=SystemClock())
    try:
        now = datetime.now(UTC)
        start = now.replace(microsecond=0) + timedelta(seconds=20)
        async with bot.services.db.transaction() as session:
            users = [User(display_name=f"u{n}", role_code="guest", timezone=ZONE,
                          created_at=now) for n in range(REMINDERS)]
            session.add_all(users)
            await session.flush()
            session.add_all([Identity(user_id=u.id, platform="telegram",
                                      platform_user_id=str(FIRST_CHAT + n),
                                      direct_chat_id=str(FIRST_CHAT + n))
                             for n, u in enumerate(users)])
            zone = ZoneInfo(ZONE)
            for n, user in enumerate(users):
                due = (start + timedelta(seconds=n * 50 // REMINDERS)).astimezone(zone)
                await bot.services.reminders.create(
                    session, kind="note", message=f"rappel {n}",
                    when=When(due.replace(tzinfo=None), ZONE, None), audience=[f"user:{user.id}"],
                    owner=user, origin_chat=f"telegram:{FIRST_CHAT + n}")
            await bot.services.outbox.enqueue_many(session, [
                (ChatRef("telegram", str(FIRST_CHAT + n)), Reply(f"diffusion {n}"),
                 f"failover-broadcast:{n}", "broadcast:failover") for n in range(BROADCAST)])
    finally:
        await bot.close()


@pytest.mark.slow
async def test_three_instances_survive_the_leader_being_killed(tmp_path, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("several instances share a PostgreSQL database")
    await _prepare(tmp_path, database_url)
    fake = FakeBotApi()
    api_url = await fake.start()
    processes: list[asyncio.subprocess.Process] = []
    expected = ({f"rappel {n}" for n in range(REMINDERS)}
                | {f"diffusion {n}" for n in range(BROADCAST)})
    try:
        env = _env(database_url, api_url, tmp_path / "var")
        leader = await start_run(env)
        processes.append(leader)
        await fake.wait_for(lambda: fake.calls_of("getUpdates"), within=60)
        processes += [await start_run(env), await start_run(env)]
        await fake.wait_for(lambda: len(fake.sent) >= 400, within=120)

        leader.send_signal(signal.SIGKILL)
        await leader.wait()
        killed_at, sent_at_kill = time.monotonic(), len(fake.sent)
        await fake.wait_for(lambda: len(fake.sent) > sent_at_kill + 5, within=60)
        failover = time.monotonic() - killed_at
        processes.append(await start_run(env))      # the killed instance comes back

        await fake.wait_for(lambda: expected <= {s.text for s in fake.sent}, within=240)
        await asyncio.sleep(5)                   # anything sent twice would show up by now
        counts = Counter(s.text for s in fake.sent if s.text in expected)
        duplicates = sum(count - 1 for count in counts.values())
        print(f"\nfailover {failover:.1f} s; {len(counts)} of {len(expected)} delivered; "
              f"{duplicates} sent twice (in flight at the kill)")
        assert set(counts) == expected                       # nothing lost
        assert failover <= 30
        assert duplicates <= 50                              # at most the sends in flight
        for chat in (FIRST_CHAT, FIRST_CHAT + REMINDERS - 1):
            assert len(fake.texts_to(chat)) >= 1
    finally:
        await stop_all(processes)
        await fake.stop()
