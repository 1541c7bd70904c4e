"""Reminders benchmark: `python benchmarks/reminders.py` (or `make bench`).

1. Delivery delay: 1,000 reminders due in the same minute, each to its own console chat, run
   by the real scheduler on the real clock. Delay = moment the console transport is handed the
   message − the reminder's due time. Two shapes: spread over the minute, and all due at the
   same second (the worst case). Target: p99 <= 1 s.
2. Start-up with 10,000 active schedules: a fresh process builds the app and starts it
   (migrations check + rebuilding the scheduler jobs from the database). Target <= 3 s and
   resident memory <= 150 MB.

`--quick` uses 200 reminders and 2,000 schedules. COORDBOT_BENCH_DATABASE_URL runs it on
PostgreSQL instead of a temporary SQLite file (the database is emptied first)."""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, UTC
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.bootstrap import build_app  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.messages import ChatRef, Reply  # noqa: E402
from bot.people import Identity, User  # noqa: E402
from bot.when import When  # noqa: E402
from bot.transports.base import SendResult  # noqa: E402
from bot.transports.console import ConsoleTransport  # noqa: E402

ZONE = "Europe/Brussels"


class TimedConsole(ConsoleTransport):
    """The console transport writing to /dev/null, noting when each message is handed over."""

    def __init__(self, expected: int) -> None:
        super().__init__(user="bench", stdout=open(os.devnull, "w"), interactive=False)
        self.served_chats = None   # one terminal standing in for every person's console
        self.handed: dict[str, float] = {}
        self.expected = expected
        self.all_handed = asyncio.Event()

    async def send(self, chat: ChatRef, reply: Reply, *, idempotency_key=None) -> SendResult:
        self.handed.setdefault(reply.text.split()[1], time.time())
        if len(self.handed) >= self.expected:
            self.all_handed.set()
        return await super().send(chat, reply, idempotency_key=idempotency_key)


def settings_for(data_dir: Path):
    url = os.environ.get("COORDBOT_BENCH_DATABASE_URL", "")
    return load_settings(environ={}, data_dir=data_dir, database_url=url,
                         load_bundled_data=False, log_level="WARNING")


async def reset_postgres(url: str) -> None:
    from sqlalchemy import text

    from bot.db import Database
    db = Database(url)
    async with db.engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await db.dispose()


async def fresh_app(data_dir: Path):
    if os.environ.get("COORDBOT_BENCH_DATABASE_URL"):
        await reset_postgres(os.environ["COORDBOT_BENCH_DATABASE_URL"])
    app = build_app(settings_for(data_dir))
    return app


async def add_people(app, count: int) -> list[User]:
    async with app.services.db.transaction() as session:
        users = [User(display_name=f"u{i}", role_code="guest", timezone=ZONE,
                      created_at=datetime.now(UTC)) for i in range(count)]
        session.add_all(users)
        await session.flush()
        session.add_all([Identity(user_id=u.id, platform="console", platform_user_id=f"u{i}",
                                  direct_chat_id=f"u{i}") for i, u in enumerate(users)])
    return users


async def add_schedules(app, users: list[User], due: list[datetime], rrule: str | None = None):
    service = app.services.reminders
    zone = ZoneInfo(ZONE)
    async with app.services.db.transaction() as session:
        for index, (user, moment) in enumerate(zip(users, due, strict=True)):
            local = moment.astimezone(zone).replace(tzinfo=None)
            when = When(local, ZONE, rrule)
            await service.create(session, kind="note", message=f"bench {index}", when=when,
                                 audience=[f"user:{user.id}"], owner=user,
                                 origin_chat=f"console:u{index}")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


async def delivery_delay(count: int, spread_seconds: float) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        app = await fresh_app(Path(folder))
        await app.start()
        console = TimedConsole(expected=count)
        app.services.transports.add(console)
        users = await add_people(app, count)
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=5)
        # Whole-second due times, as people write them ("10:00", "in 2 minutes").
        due = [start + timedelta(seconds=int(i * spread_seconds / count)) for i in range(count)]
        await add_schedules(app, users, due)
        await app.services.reminders.plan_next_job()
        # Past the deadline the benchmark reports what was delivered so far.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(spread_seconds + 60):
                await console.all_handed.wait()
        await app.stop()
    delays = [console.handed[str(i)] - due[i].timestamp() for i in range(count)
              if str(i) in console.handed]
    return {"reminders": count, "spread_s": spread_seconds, "delivered": len(delays),
            "p50_s": round(statistics.median(delays), 3),
            "p99_s": round(percentile(delays, 0.99), 3),
            "max_s": round(max(delays), 3)}


async def prepare_schedules(data_dir: Path, count: int) -> None:
    app = await fresh_app(data_dir)
    await app.start(start_scheduler=False)
    users = await add_people(app, count)
    now = datetime.now(UTC)
    due = [now + timedelta(days=1, minutes=i % 1440) for i in range(count)]
    await add_schedules(app, users, due, rrule="FREQ=WEEKLY;INTERVAL=1")
    await app.stop()


def measure_startup_in_child(data_dir: str) -> None:
    """Runs in a fresh process: start-up time and resident memory after start."""
    async def go() -> dict:
        app = build_app(settings_for(Path(data_dir)))
        began = time.perf_counter()
        await app.start()
        started = time.perf_counter() - began
        jobs = sorted(job.id for job in app.services.scheduler.get_jobs())
        await app.stop()
        return {"startup_s": round(started, 3), "jobs": jobs}

    result = asyncio.run(go())
    result["rss_mb"] = round(_rss_kb() / 1024, 1)
    print(json.dumps(result))


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):  # peak resident set size
            return int(line.split()[1])
    return 0


def startup(count: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(prepare_schedules(Path(folder), count))
        output = subprocess.run([sys.executable, __file__, "--child-startup", folder],
                                capture_output=True, text=True, check=True, env=os.environ)
    result = json.loads(output.stdout.strip().splitlines()[-1])
    result["schedules"] = count
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child-startup")
    args, _unknown = parser.parse_known_args()
    if args.child_startup:
        measure_startup_in_child(args.child_startup)
        return 0
    reminders, schedules = (200, 2000) if args.quick else (1000, 10000)
    spread = asyncio.run(delivery_delay(reminders, 60.0))
    burst = asyncio.run(delivery_delay(reminders, 0.0))
    boot = startup(schedules)
    print(f"delivery, {spread['reminders']} reminders spread over one minute: "
          f"p50 {spread['p50_s']} s, p99 {spread['p99_s']} s, max {spread['max_s']} s "
          f"({spread['delivered']} delivered; target p99 <= 1 s)")
    print(f"delivery, {burst['reminders']} reminders due at the same second: "
          f"p50 {burst['p50_s']} s, p99 {burst['p99_s']} s, max {burst['max_s']} s "
          f"({burst['delivered']} delivered)")
    print(f"start-up with {boot['schedules']} active schedules: {boot['startup_s']} s "
          f"(target <= 3 s), peak resident memory {boot['rss_mb']} MB (target <= 150 MB), "
          f"jobs {', '.join(boot['jobs'])}")
    ok = spread["p99_s"] <= 1 and boot["startup_s"] <= 3 and boot["rss_mb"] <= 150
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
