"""Directory import benchmark: a 100,000-row file, and how long other people wait meanwhile.

    .venv/bin/python -m benchmarks.directory_import [--rows 100000] [--mode cli|chat]
                                                    [--coordbot-root DIR]

The file is the development sample's rows repeated with fresh ids (real organisations, topics
and area codes). While the import runs, the bot (the real router on the same SQLite database)
answers `/whoami` from 20 other users in turn, one every 50 ms; the longest of these answers is
the longest time another user waited.

- `cli`: `coordbot directory import FILE --replace` runs as a separate process, as an operator
  would run it next to the live bot; its time and peak memory (maxrss) are the child's.
- `chat`: a coordinator sends `/import replace` with the file in the bot itself; time is until
  their answer (index rebuilt included); memory is the bot process's peak (maxrss).

`--coordbot-root DIR` runs the `cli` import from another checkout (e.g. the code before a
change) with this checkout's bot answering the probes."""
from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bot.bootstrap import build_app
from bot.config import PROJECT_ROOT, load_settings
from bot.messages import Attachment, ChatRef, IncomingMessage

SAMPLE = PROJECT_ROOT / "tests" / "data" / "directory" / "directory-sample.csv"
PROBE_USERS = [f"user{i}" for i in range(20)]


def big_file(rows: int) -> bytes:
    sample = [row for row in csv.DictReader(io.StringIO(SAMPLE.read_text(encoding="utf-8")))
              if not row["id"].startswith("#")]  # not the HXL row
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(sample[0]), lineterminator="\r\n")
    writer.writeheader()
    for number in range(rows):
        row = dict(sample[number % len(sample)])
        row["id"] = f"{row['id']}-{number}"
        row["service"] = f"{row['service']} ({number})"
        writer.writerow(row)
    return buffer.getvalue().encode("utf-8")


def message(sender: str, text: str = "/whoami", attachment=None) -> IncomingMessage:
    return IncomingMessage(chat=ChatRef("console", sender), sender_id=sender, text=text,
                           sender_name=sender, sender_username=sender, attachment=attachment)


async def probe_until(app, done: asyncio.Event) -> list[float]:
    waits, number = [], 0
    while not done.is_set():
        start = time.perf_counter()
        await app.handle(message(PROBE_USERS[number % len(PROBE_USERS)]))
        waits.append(time.perf_counter() - start)
        number += 1
        await asyncio.sleep(0.05)
    return waits


async def import_by_cli(path: Path, settings, root: Path) -> tuple[float, float, str]:
    env = dict(os.environ, COORDBOT_DATABASE_URL=settings.database_url,
               COORDBOT_DATA_DIR=str(settings.data_dir), PYTHONPATH=str(root))
    start = time.perf_counter()
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "directory", "import", str(path), "--replace", cwd=root,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await child.communicate()
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    last = (out or err).decode().strip().splitlines()
    return seconds, peak_mb, last[-1] if last else f"exit {child.returncode}"


async def import_by_chat(app, content: bytes) -> tuple[float, float, str]:
    start = time.perf_counter()
    replies = await app.handle(message("coordinator", "/import replace",
                                       Attachment("big.csv", content, "text/csv")))
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return seconds, peak_mb, replies[0].plain().splitlines()[0] if replies else "no answer"


async def run(args) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        content = big_file(args.rows)
        path = folder / "big.csv"
        path.write_bytes(content)
        settings = load_settings(environ={}, data_dir=folder / "var",
                                 database_url=f"sqlite:///{folder / 'bench.sqlite3'}",
                                 load_bundled_data=False, rate_limit_burst=0,
                                 admins=["console:coordinator"])
        app = build_app(settings)
        await app.start(start_scheduler=False)
        try:
            for sender in PROBE_USERS + ["coordinator"]:
                await app.handle(message(sender))
            before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            done = asyncio.Event()
            probes = asyncio.create_task(probe_until(app, done))
            if args.mode == "cli":
                result = await import_by_cli(path, settings, Path(args.coordbot_root))
            else:
                result = await import_by_chat(app, content)
            done.set()
            waits = await probes
        finally:
            await app.stop()
    seconds, peak_mb, outcome = result
    waits_ms = sorted(w * 1000 for w in waits)
    p95 = statistics.quantiles(waits_ms, n=100)[94] if len(waits_ms) > 1 else waits_ms[0]
    where = "child process" if args.mode == "cli" else f"bot process (before: {before_mb:.0f} MB)"
    print(f"{args.mode}: {args.rows} rows ({len(content) / 1e6:.1f} MB) in {seconds:.1f} s, "
          f"peak memory {peak_mb:.0f} MB ({where}) | other users: {len(waits_ms)} answers, "
          f"p50 {statistics.median(waits_ms):.0f} ms, p95 {p95:.0f} ms, "
          f"longest wait {waits_ms[-1]:.0f} ms | {outcome}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--mode", choices=("cli", "chat"), default="cli")
    parser.add_argument("--coordbot-root", default=str(PROJECT_ROOT))
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
