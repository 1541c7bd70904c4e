"""Dashboard and feed benchmark: the page of a round of 5,000 respondents, and the directory
feed of 10,000 entries (first request, cached request, 304 on the ETag).

    .venv/bin/python benchmarks/web_dashboard.py [--people 5000] [--entries 10000]
                                                 [--database-url URL]

Everything goes through the real aiohttp application on 127.0.0.1 and its HTTP client; the
times are request → complete response on loopback, so they include the HTTP round trip.
Targets (issue 15): round page ≤ 300 ms, feed ≤ 200 ms, and a 304 on a matching ETag."""
from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiohttp.test_utils import TestClient, TestServer  # noqa: E402

from benchmarks.checkins import START, add_people, answer_most  # noqa: E402
from benchmarks.directory_search import build_directory  # noqa: E402
from bot.bootstrap import build_app  # noqa: E402
from bot.checkins.models import CheckinRound  # noqa: E402
from bot.clock import FakeClock  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.directory.csvformat import write_directory  # noqa: E402
from bot.people import User  # noqa: E402
from bot.web.app import Dashboard  # noqa: E402


async def timed(client, path: str, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    response = await client.get(path, **kwargs)
    await response.read()
    return (time.perf_counter() - started) * 1000, response


def line(label: str, samples: list[float], target: float | None = None) -> str:
    shown = f"first {samples[0]:7.1f} ms"
    if len(samples) > 1:
        rest = samples[1:]
        shown += f"   then median {statistics.median(rest):7.1f} ms, max {max(rest):7.1f} ms"
    verdict = ""
    if target is not None:   # judged on the first, uncached request
        verdict = "   ok" if samples[0] <= target else "   OVER TARGET"
    return f"{label:<32} {shown}{verdict}"


async def setup_round(services, people: int) -> None:
    svc = services.checkins
    await add_people(services.db, people)
    async with services.db.transaction() as session:
        form_row = await svc.form_row(session, "weekly_local")
        round_ = await svc.rounds.create_round(
            session, form_row, opens_at=START, deadline=START + timedelta(days=4, hours=8),
            audience="role:focal_point", report_chat="console:coord", created_by=None)
        await svc.rounds.open_round(session, round_)
        round_id = round_.id
    await answer_most(services.db, round_id, 0.85, random.Random(5))
    async with services.db.transaction() as session:
        await svc.close_now(session, await session.get(CheckinRound, round_id))


async def setup_directory(services, entries: int) -> None:
    directory = services.directory
    records = build_directory(entries, directory.gazetteer, directory.vocabulary,
                              random.Random(7))
    async with services.db.transaction() as session:
        report = await directory.import_file(session, write_directory(records), replace=True)
        assert report.applied, report.problems[:3]
    async with services.db.session() as session:
        await directory.refresh(session)


async def sign_in(services, client) -> None:
    async with services.db.transaction() as session:
        # add_people wrote ids 1..N itself: PostgreSQL's sequence did not move.
        coordinator = User(id=10**6, display_name="Coordinator", role_code="coordinator",
                           locale="fr")
        session.add(coordinator)
        await session.flush()
        secret = await services.web.new_link(session, coordinator.id)
    response = await client.post("/login", data={"token": secret})
    assert response.status == 200, response.status


async def main(people: int, entries: int, database_url: str | None, repeat: int) -> int:
    folder = Path(tempfile.mkdtemp(prefix="coordbot-bench-web-"))
    settings = load_settings(environ={}, data_dir=folder, load_bundled_data=False,
                             database_url=database_url or f"sqlite:///{folder / 'b.sqlite3'}",
                             web_base_url="http://127.0.0.1:8080",
                             web_feed_requests_per_minute=10_000)
    app = build_app(settings, clock=FakeClock(START))
    await app.start(start_scheduler=False)
    services = app.services
    client = TestClient(TestServer(Dashboard(services).application(), host="127.0.0.1"))
    await client.start_server()
    failures = 0
    try:
        print(f"web benchmark: round of {people} respondents, directory of {entries} entries, "
              f"database {'sqlite' if services.db.is_sqlite else 'postgresql'}", flush=True)
        await setup_round(services, people)
        await setup_directory(services, entries)
        await sign_in(services, client)

        samples = []
        for _ in range(repeat):
            elapsed, response = await timed(client, "/rounds/weekly_local/1")
            assert response.status == 200
            samples.append(elapsed)
        print(line("round page (5,000 respondents)", samples, 300), flush=True)
        failures += samples[0] > 300

        async with services.db.transaction() as session:
            secret = await services.web.new_feed(session, "bench", 1)
        feed = f"/feed/directory.csv?token={secret}"
        samples, etag, size = [], None, 0
        for _ in range(repeat):
            elapsed, response = await timed(client, feed, headers={"Accept-Encoding": "gzip"})
            assert response.status == 200
            samples.append(elapsed)
            etag = response.headers["ETag"]
            size = int(response.headers.get("Content-Length") or 0)
        print(line(f"directory feed (gzip {size // 1024} kB)", samples, 200), flush=True)
        failures += samples[0] > 200
        not_modified = []
        for _ in range(repeat):
            elapsed, response = await timed(client, feed, headers={"If-None-Match": etag})
            assert response.status == 304, response.status
            not_modified.append(elapsed)
        print(line("directory feed, If-None-Match → 304", not_modified), flush=True)
    finally:
        await client.close()
        await app.stop()
    return 1 if failures else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.people, args.entries, args.database_url, args.repeat)))
