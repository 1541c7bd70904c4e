"""Several `coordbot chat` consoles on one database: each prints only what is addressed to
its own person; the others' messages wait for their own console. Piped input is answered
line by line; consoles started at the same instant on a new database all start."""
import csv
import io
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from bot.directory.models import DirectoryEntry
from bot.locks import single_runner_lock
from bot.messages import ChatRef, Reply
from bot.outbox import PENDING, OutboxMessage
from bot.transports.console import ConsoleTransport

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path, database_url, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("COORDBOT_")}
    env.update({"COORDBOT_DATA_DIR": str(tmp_path / "var"), "COORDBOT_DATABASE_URL": database_url,
                "COORDBOT_LOAD_BUNDLED_DATA": "false"})
    env.update(extra)
    return env


def _chat(tmp_path, database_url, person, lines, *args, **extra):
    return subprocess.run([sys.executable, "-m", "bot", "chat", "--as", person, *args],
                          input="\n".join(lines) + "\n", env=_env(tmp_path, database_url, **extra),
                          capture_output=True, text=True, timeout=180)


async def _queue(bot, person: str, text: str, key: str) -> None:
    async with bot.services.db.transaction() as session:
        await bot.services.outbox.enqueue(session, ChatRef("console", person), Reply(text), key)


async def test_a_console_prints_only_its_own_persons_messages(bot, tmp_path, database_url):
    await _queue(bot, "marie", "Question 1 du check-in pour Marie", "k1")
    await _queue(bot, "jan", "Herinnering voor Jan", "k2")
    terminal = io.StringIO()
    bot.services.transports.add(ConsoleTransport(user="marie", stdout=terminal, interactive=False))
    await bot.services.outbox.deliver_pending()
    assert "Question 1 du check-in pour Marie" in terminal.getvalue()
    assert "Jan" not in terminal.getvalue()
    async with bot.services.db.session() as session:
        jans = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.chat_key == "console:jan"))
    assert jans.status == PENDING and jans.attempts == 0 and jans.claimed_by is None
    await bot.close()

    opened = _chat(tmp_path, database_url, "jan", ["/whoami"], "--lang", "nl")
    assert opened.returncode == 0, opened.stderr
    assert "Er wachtte 1 bericht op u:" in opened.stdout
    assert "Herinnering voor Jan" in opened.stdout and "Marie" not in opened.stdout


async def test_piped_input_beyond_the_flood_limit_is_answered_line_by_line(tmp_path, database_url):
    lines = ["/whoami" for _ in range(25)]
    result = _chat(tmp_path, database_url, "piet", lines,
                   COORDBOT_RATE_LIMIT_BURST="5", COORDBOT_RATE_LIMIT_PER_MINUTE="10")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Name: piet") == 25


def test_four_consoles_started_at_once_on_a_new_database_all_start(tmp_path, database_url):
    env = _env(tmp_path, database_url, COORDBOT_LOAD_BUNDLED_DATA="true")
    consoles = [subprocess.Popen([sys.executable, "-m", "bot", "chat", "--as", f"p{n}"],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, env=env, text=True)
                for n in range(4)]
    outcomes = [console.communicate("/whoami\n", timeout=300) for console in consoles]
    for console, (_out, err) in zip(consoles, outcomes, strict=True):
        assert console.returncode == 0, err
        assert "Traceback" not in err
    names = [out for out, _err in outcomes]
    assert all(f"Name: p{n}" in names[n] for n in range(4))
    with open(ROOT / "data" / "directory" / "seed.csv", encoding="utf-8", newline="") as seed:
        seed_rows = sum(1 for row in csv.DictReader(seed) if not row["id"].startswith("#"))
    counted = _count_entries(database_url)
    assert counted == seed_rows, "the bundled directory was loaded more than once"


def _count_entries(database_url: str) -> int:
    import asyncio

    from bot.db import Database

    async def count() -> int:
        db = Database(database_url)
        try:
            async with db.session() as session:
                return await session.scalar(select(func.count()).select_from(DirectoryEntry))
        finally:
            await db.dispose()

    return asyncio.run(count())


def test_a_second_run_on_the_same_sqlite_file_is_refused_in_one_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'one.sqlite3'}"
    held = single_runner_lock(url)
    assert held is not None
    result = subprocess.run([sys.executable, "-m", "bot", "run"], env=_env(
        tmp_path, url, COORDBOT_TELEGRAM_TOKEN="123:abc"), capture_output=True, text=True,
        timeout=60)
    held.release()
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "coordbot: another `coordbot run` already uses this SQLite database; several "
        "instances need PostgreSQL (COORDBOT_DATABASE_URL)"]
