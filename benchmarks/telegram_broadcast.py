"""Broadcast benchmark: 1,000 private chats through our own Bot API server, which answers 429
(retry_after 1 s) at random to 5 % of sends. Every message goes through the outbox and the
Telegram transport exactly as in production. Checks that every chat got exactly one message
and prints the time against the 30 msg/s bound.

    .venv/bin/python benchmarks/telegram_broadcast.py [--chats 1000] [--flood 0.05]

(`make bench` runs it with the others.) Exits 1 if a chat did not get exactly one message.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

# Run as a script (`python benchmarks/x.py`, as `python -m benchmarks` does): the fake Bot API
# server lives in the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")


async def run(chats: int, flood: float, database_url: str | None) -> dict:
    from bot.bootstrap import build_app
    from bot.config import load_settings
    from bot.messages import ChatRef, Reply
    from bot.transports.registry import configured_transports
    from tests.telegram.fake_bot_api import TOKEN, FakeBotApi

    fake = FakeBotApi()
    await fake.start()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(environ={}, data_dir=Path(tmp), database_url=database_url or "",
                                 load_bundled_data=False, telegram_token=TOKEN,
                                 telegram_api_url=fake.url)
        app = build_app(settings)
        await app.start(start_scheduler=False)
        try:
            await app.serve(configured_transports(settings, app.services))
            async with app.services.db.transaction() as session:
                for n in range(chats):
                    await app.services.outbox.enqueue(
                        session, ChatRef("telegram", str(10_000 + n)),
                        Reply("**Reminder**: coordination meeting tomorrow at 10:00."),
                        f"bench:{n}", source="bench")
            fake.random_flood(flood, retry_after=1)
            started = time.monotonic()
            sent = 0
            for _ in range(20):   # bounded: each pass delivers what is due
                sent += await app.services.outbox.deliver_pending(limit=chats)
                if sent >= chats:
                    break
            elapsed = time.monotonic() - started
        finally:
            await app.stop()
            await fake.stop()
    per_chat = [len(fake.sent_to(10_000 + n)) for n in range(chats)]
    ideal = chats / 30
    return {"chats": chats, "confirmed_sent": sent,
            "chats_with_exactly_one": sum(count == 1 for count in per_chat),
            "duplicates": sum(count > 1 for count in per_chat),
            "flood_429_answers": fake.faults_served.get("429", 0),
            "seconds": round(elapsed, 2), "ideal_seconds": round(ideal, 2),
            "ratio_to_bound": round(elapsed / ideal, 3),
            "messages_per_second": round(chats / elapsed, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--flood", type=float, default=0.05)
    parser.add_argument("--database-url", default=os.environ.get("COORDBOT_TEST_DATABASE_URL"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    figures = asyncio.run(run(args.chats, args.flood, args.database_url))
    for name, value in figures.items():
        print(f"{name:24} {value}")
    exactly_once = figures["chats_with_exactly_one"] == args.chats
    in_time = figures["ratio_to_bound"] <= 1.15
    print("every chat exactly once:", "yes" if exactly_once else "NO")
    print("within 1.15x of the 30 msg/s bound:", "yes" if in_time else "NO")
    return 0 if exactly_once else 1


if __name__ == "__main__":
    sys.exit(main())
