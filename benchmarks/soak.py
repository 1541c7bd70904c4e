"""Soak benchmark: `coordbot run` instances under a steady load for a bounded time.

200 simulated people write to the bot through our own Bot API server on 127.0.0.1 (directory
questions in five languages, a message every 60 s each on average) while 200 reminders repeat
every 2 minutes. With COORDBOT_BENCH_DATABASE_URL=postgresql://… two instances share the
database (the one holding the Telegram lease receives and sends; the other schedules and
stands by); without it, one instance runs on a SQLite file. Reports the p50/p95/p99 reply
latency (user's update pushed → the bot's reply recorded by the server), the resident memory
of each instance after warm-up (first fifth of the run) and its drift, and checks that every
question got its reply and every reminder that fell due reached its person.

    .venv/bin/python benchmarks/soak.py [--minutes 10] [--people 200] [--quick]

Bounded: at most 10 minutes of load, then at most 2 minutes to drain. Exits 1 if anything
was lost or memory grew by more than 10 % after warm-up."""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, UTC
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

QUESTIONS = ["logement Liège", "wie helpt met leefloon in Gent", "Arbeit Eupen",
             "cpas charleroi", "inburgering Antwerpen", "school Brussel", "житло Брюссель",
             "aide sociale Namur", "work permit Leuven", "ocmw Brugge"]
ZONE = "Europe/Brussels"
FIRST_CHAT = 800_000


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


async def prepare(database_url: str, data_dir: Path, people: int) -> None:
    """Schema, bundled directory, the people and their repeating reminders."""
    from sqlalchemy import text

    from bot.bootstrap import build_app
    from bot.config import load_settings
    from bot.db import Database
    from bot.people import Identity, User
    from bot.when import When

    if database_url.startswith("postgresql"):
        db = Database(database_url)
        async with db.engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
        await db.dispose()
    app = build_app(load_settings(environ={}, data_dir=data_dir, database_url=database_url,
                                  log_level="WARNING"))
    await app.start(start_scheduler=False)
    try:
        now = datetime.now(UTC)
        first = (now + timedelta(minutes=1)).astimezone(ZoneInfo(ZONE)).replace(
            second=0, microsecond=0, tzinfo=None)
        async with app.services.db.transaction() as session:
            users = [User(display_name=f"p{n}", role_code="guest", timezone=ZONE, created_at=now)
                     for n in range(people)]
            session.add_all(users)
            await session.flush()
            session.add_all([Identity(user_id=u.id, platform="telegram",
                                      platform_user_id=str(FIRST_CHAT + n),
                                      direct_chat_id=str(FIRST_CHAT + n))
                             for n, u in enumerate(users)])
            for n, user in enumerate(users):
                await app.services.reminders.create(
                    session, kind="note", message=f"soak {n}",
                    when=When(first, ZONE, "FREQ=MINUTELY;INTERVAL=2"),
                    audience=[f"user:{user.id}"], owner=user,
                    origin_chat=f"telegram:{FIRST_CHAT + n}")
    finally:
        await app.stop()


async def soak(minutes: float, people: int) -> int:
    from tests.processes import coordbot_env, start_run, stop_all
    from tests.telegram.fake_bot_api import TOKEN, FakeBotApi

    database_url = os.environ.get("COORDBOT_BENCH_DATABASE_URL", "")
    tmp = Path(tempfile.mkdtemp(prefix="coordbot-soak-"))
    database_url = database_url or f"sqlite:///{tmp / 'soak.sqlite3'}"
    instances = 2 if database_url.startswith("postgresql") else 1
    await prepare(database_url, tmp / "setup", people)
    fake = FakeBotApi()
    await fake.start()
    processes = [await start_run(coordbot_env(
        database_url=database_url, telegram_token=TOKEN, telegram_api_url=fake.url,
        log_level="WARNING", rate_limit_burst=0, reminders_tick_seconds=5,
        data_dir=tmp / f"i{n}")) for n in range(instances)]
    rng = random.Random(13)
    asked: dict[int, list[float]] = {}
    latencies: list[float] = []
    memory: dict[int, list[tuple[float, float]]] = {p.pid: [] for p in processes}
    try:
        await fake.wait_for(lambda: fake.calls_of("getUpdates"), within=120)
        started = time.monotonic()
        end = started + min(minutes, 10) * 60
        seen = 0
        next_sample = started
        while time.monotonic() < end:
            for _ in range(people):
                if rng.random() < 1 / 600:   # one question a minute per person, on average
                    chat = FIRST_CHAT + rng.randrange(people)
                    asked.setdefault(chat, []).append(time.monotonic())
                    fake.send_text(chat, rng.choice(QUESTIONS))
            seen = collect_replies(fake, seen, asked, latencies)
            if time.monotonic() >= next_sample:
                for process in processes:
                    if (value := rss_mb(process.pid)) is not None:
                        memory[process.pid].append((time.monotonic() - started, value))
                next_sample += 10
            await asyncio.sleep(0.1)
        drain_until = time.monotonic() + 120
        while any(asked.values()) and time.monotonic() < drain_until:
            seen = collect_replies(fake, seen, asked, latencies)
            await asyncio.sleep(0.2)
        return report(minutes, people, instances, latencies, asked, memory, fake, started)
    finally:
        await stop_all(processes)
        await fake.stop()


def collect_replies(fake, seen: int, asked: dict[int, list[float]],
                    latencies: list[float]) -> int:
    """Every message the bot sent that is not a reminder answers the oldest open question of
    its chat."""
    for sent in fake.sent[seen:]:
        waiting = asked.get(sent.chat_id)
        if sent.text.startswith("soak ") or not waiting:
            continue
        latencies.append(sent.at - waiting.pop(0))
    return len(fake.sent)


def report(minutes, people, instances, latencies, asked, memory, fake, started) -> int:
    unanswered = sum(len(v) for v in asked.values())
    reminders = sum(1 for s in fake.sent if s.text.startswith("soak "))
    elapsed_min = (time.monotonic() - started) / 60
    expected_min = int(people * (elapsed_min - 1.5) / 2)   # every 2 minutes from minute 1
    print(f"soak: {instances} instance(s), {people} people, {minutes:g} min")
    if latencies:
        print(f"  replies: {len(latencies)}; "
              f"latency p50 {statistics.median(latencies) * 1000:.0f} ms, "
              f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms, "
              f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms; unanswered {unanswered}")
    print(f"  reminders delivered: {reminders} (at least {expected_min} expected)")
    grew = False
    for pid, samples in memory.items():
        warm = [mb for t, mb in samples if t >= minutes * 60 / 5]
        if len(warm) >= 2:
            drift = (warm[-1] - warm[0]) / warm[0] * 100
            grew |= drift > 10
            print(f"  instance {pid}: RSS after warm-up {warm[0]:.0f} → {warm[-1]:.0f} MB "
                  f"(max {max(warm):.0f}), drift {drift:+.1f} %")
    lost = unanswered > 0 or reminders < expected_min
    return 1 if lost or grew else 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="3 minutes, 50 people")
    args = parser.parse_args()
    if args.quick:
        args.minutes, args.people = 3, 50
    return asyncio.run(soak(args.minutes, args.people))


if __name__ == "__main__":
    sys.exit(main())
