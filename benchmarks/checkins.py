"""Check-in benchmark: one round of the weekly form for N respondents (default 5,000).

    .venv/bin/python -m benchmarks.checkins [--people 5000] [--database-url URL]

Measures the opening fan-out (assignments, pending conversations and one outbox message per
person, in one transaction), the summary computation (figures + rendered text), the chart,
the exports, and memory (tracemalloc peak per step, process max RSS). People and answers are
written straight into the database: only the measured steps go through the service."""
from __future__ import annotations

import argparse
import asyncio
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, insert, select, update

from bot.bootstrap import build_app
from bot.checkins import reports, texts
from bot.checkins.models import SUBMITTED, CheckinAssignment, CheckinRound
from bot.clock import FakeClock
from bot.config import load_settings
from bot.outbox import OutboxMessage
from bot.people import Identity, User

START = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
PROVINCES = ["BE-BRU", "BE-VAN", "BE-VLI", "BE-VOV", "BE-VBR", "BE-VWV", "BE-WBR", "BE-WHT",
             "BE-WLG", "BE-WLX", "BE-WNA"]


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


async def measured(label: str, results: dict, coroutine_factory, *, trace: bool = False):
    """Wall time of one step and the process's max RSS after it. With `trace`, the step is
    run a second time under tracemalloc for its own Python allocation peak (tracemalloc
    slows code down several times, so it never runs during the timed pass)."""
    started = time.perf_counter()
    value = await coroutine_factory()
    elapsed = time.perf_counter() - started
    peak = None
    if trace:
        tracemalloc.start()
        await coroutine_factory()
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    results[label] = (elapsed, peak)
    extra = f"   python peak {peak:6.1f} MB" if peak is not None else ""
    print(f"{label:<34} {elapsed:8.2f} s   max RSS {max_rss_mb():5.0f} MB{extra}", flush=True)
    return value


async def add_people(db, count: int) -> None:
    async with db.transaction() as session:
        await session.execute(insert(User), [
            {"id": i, "display_name": f"Focal point {i:05d}", "role_code": "focal_point",
             "locale": ["fr", "nl", "de", "en", "uk"][i % 5], "timezone": "Europe/Brussels",
             "organisation_id": f"cpas-{i:05d}", "created_at": START}
            for i in range(1, count + 1)])
        await session.execute(insert(Identity), [
            {"user_id": i, "platform": "console", "platform_user_id": f"fp{i:05d}",
             "username": f"fp{i:05d}", "direct_chat_id": f"fp{i:05d}"}
            for i in range(1, count + 1)])


async def answer_most(db, round_id: int, share: float, rng: random.Random) -> int:
    async with db.session() as session:
        ids = list(await session.scalars(select(CheckinAssignment.id).where(
            CheckinAssignment.round_id == round_id)))
    chosen = [i for i in ids if rng.random() < share]
    async with db.transaction() as session:
        for start in range(0, len(chosen), 1000):
            rows = []
            for assignment_id in chosen[start:start + 1000]:
                status = rng.choice(["green", "amber", "red"])
                answers = {"province": rng.choice(PROVINCES), "arrivals": rng.randint(0, 40),
                           "places_available": rng.randint(0, 25), "status": status,
                           "support": rng.sample(["interpreters", "housing_search", "training",
                                                  "legal"], rng.randint(0, 2)) or None,
                           "comment": "ok" if rng.random() < 0.2 else None}
                if status != "green":
                    answers["bottleneck"] = rng.choice(["housing", "income", "health"])
                rows.append({"id": assignment_id, "answers": answers, "status": SUBMITTED,
                             "region": answers["province"], "submitted_at": START,
                             "late": False, "draft": None})
            await session.execute(update(CheckinAssignment), rows)
    return len(chosen)


async def main(people: int, database_url: str | None) -> int:
    folder = Path(tempfile.mkdtemp(prefix="coordbot-bench-"))
    settings = load_settings(environ={}, data_dir=folder,
                             database_url=database_url or f"sqlite:///{folder / 'bench.sqlite3'}",
                             load_bundled_data=False)
    clock = FakeClock(START)
    app = build_app(settings, clock=clock)
    await app.start(start_scheduler=False)
    services, svc = app.services, app.services.checkins
    results: dict[str, tuple[float, float]] = {}
    print(f"check-in benchmark: {people} respondents, database "
          f"{'sqlite' if services.db.is_sqlite else 'postgresql'}", flush=True)
    try:
        await add_people(services.db, people)
        async with services.db.transaction() as session:
            form_row = await svc.form_row(session, "weekly_local")
            round_ = await svc.rounds.create_round(
                session, form_row, opens_at=START, deadline=START + timedelta(days=4, hours=8),
                audience="role:focal_point", report_chat="console:coord", created_by=None)
            round_id = round_.id

        async def open_round():
            async with services.db.transaction() as session:
                round_ = await session.get(CheckinRound, round_id)
                return await svc.rounds.open_round(session, round_)

        asked = await measured("opening fan-out (1 transaction)", results, open_round)
        async with services.db.session() as session:
            queued = await session.scalar(select(func.count()).select_from(OutboxMessage))
        assert asked == people == queued, (asked, queued)
        print(f"  asked {asked}, outbox rows {queued}: "
              f"{people / results['opening fan-out (1 transaction)'][0]:.0f} people/s")

        answered = await answer_most(services.db, round_id, 0.85, random.Random(5))

        async def summary():
            async with services.db.session() as session:
                round_ = await session.get(CheckinRound, round_id)
                result = await svc.summarise(session, round_)
                with services.catalogues.use("fr"):
                    text = texts.round_summary(svc.form_of(round_), round_, result,
                                               svc.tz_of(None)).text
                return result, text

        result, text = await measured("summary (figures + text)", results, summary, trace=True)
        assert result["submitted"] == answered
        print(f"  {answered} answers, summary {len(text)} characters")

        async def export():
            async with services.db.session() as session:
                round_ = await session.get(CheckinRound, round_id)
                rows = await svc.respondents(session, round_)
                form = svc.form_of(round_)
                header, tags, data = reports.response_table(form, 1, rows, svc.tz_of(None))
                csv_bytes = reports.to_csv(header, tags, data)
                xlsx = reports.to_xlsx(header, tags, data, reports.summary_table(form, result),
                                       {"round": 1})
                return len(csv_bytes), len(xlsx)

        sizes = await measured("exports (CSV + XLSX)", results, export, trace=True)
        print(f"  CSV {sizes[0] / 1e3:.0f} kB, XLSX {sizes[1] / 1e3:.0f} kB")

        async def chart():
            series = {"arrivals": [(f"R{i}", float(result["questions"]["arrivals"]["total"]))
                                   for i in range(1, 9)]}
            return reports.chart_png("weekly", series, "-")

        png = await measured("chart (matplotlib PNG)", results, chart)
        print(f"  PNG {len(png) / 1e3:.0f} kB")

        async def closing():
            clock.set(START + timedelta(days=5))
            return await svc.run_due()

        done = await measured("run_due at the deadline (close)", results, closing)
        assert done["closed"] == 1
        print(f"process max RSS {max_rss_mb():.0f} MB")
    finally:
        await app.stop()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--database-url", default=None)
    arguments = parser.parse_args()
    sys.exit(asyncio.run(main(arguments.people, arguments.database_url)))
