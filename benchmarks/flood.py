"""Flood benchmark: does one person sending 1,000 messages in 10 seconds slow down the others?

    .venv/bin/python -m benchmarks.flood [--messages 1000] [--seconds 10] [--probes 200]

Measures other users' reply time (each probe a `/whoami` through the real router and a
SQLite database, 20 users in turn) three ways: idle, during the flood with the rate limiter on
(the default), and during the flood with the limiter off, for comparison. Prints p50/p95 per
case and the p95 ratio to idle (target: within 2x)."""
from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from bot.bootstrap import build_app
from bot.config import load_settings
from bot.messages import ChatRef, IncomingMessage


def message(sender: str, text: str = "/whoami") -> IncomingMessage:
    return IncomingMessage(chat=ChatRef("console", sender), sender_id=sender, text=text,
                           sender_name=sender, sender_username=sender)


PROBE_USERS = [f"user{i}" for i in range(20)]


async def probe(app, count: int, pause: float) -> list[float]:
    """Other people's messages, in turn from 20 users so that none of them exceeds the limit."""
    timings = []
    for i in range(count):
        start = time.perf_counter()
        replies = await app.handle(message(PROBE_USERS[i % len(PROBE_USERS)]))
        timings.append(time.perf_counter() - start)
        assert replies and "faster than" not in replies[0].text, "a probe was rate-limited"
        await asyncio.sleep(pause)
    return timings


async def flood(app, messages: int, seconds: float) -> tuple[int, int]:
    """Sends `messages` spread evenly over `seconds`, each handled concurrently as a
    transport would; returns (answered, dropped)."""
    interval = seconds / messages
    tasks = []
    start = time.perf_counter()
    for i in range(messages):
        tasks.append(asyncio.create_task(app.handle(message("mallory", f"/whoami {i}"))))
        delay = start + (i + 1) * interval - time.perf_counter()
        await asyncio.sleep(max(0.0, delay))
    results = await asyncio.gather(*tasks)
    answered = sum(1 for replies in results if replies)
    return answered, messages - answered


async def run_case(limited: bool, args, directory: Path) -> dict:
    overrides = {} if limited else {"rate_limit_burst": 0}
    settings = load_settings(environ={}, data_dir=directory / ("on" if limited else "off"),
                             database_url="", load_bundled_data=False, **overrides)
    app = build_app(settings)
    await app.start(start_scheduler=False)
    try:
        for sender in PROBE_USERS + ["mallory"]:
            await app.handle(message(sender))
        pause = args.seconds / args.probes
        idle = await probe(app, args.probes, pause)
        flood_task = asyncio.create_task(flood(app, args.messages, args.seconds))
        busy = await probe(app, args.probes, pause)
        answered, dropped = await flood_task
        return {"idle": idle, "busy": busy, "answered": answered, "dropped": dropped}
    finally:
        await app.stop()


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--probes", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for limited in (True, False):
            result = await run_case(limited, args, Path(tmp))
            label = "limiter on " if limited else "limiter off"
            ratio = p(result["busy"], 95) / p(result["idle"], 95)
            print(f"{label}: flood {args.messages} msgs/{args.seconds:g}s, "
                  f"{result['answered']} answered, {result['dropped']} dropped | other user: "
                  f"idle p50 {p(result['idle'], 50):.1f} ms p95 {p(result['idle'], 95):.1f} ms; "
                  f"during flood p50 {p(result['busy'], 50):.1f} ms "
                  f"p95 {p(result['busy'], 95):.1f} ms; p95 ratio {ratio:.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
