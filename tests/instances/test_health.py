"""`coordbot health` for Docker's HEALTHCHECK and systemd: non-zero when the database or the
receiving instance of a platform account is down."""
import os
import socket
import subprocess
import sys

from bot.db import Database
from bot.leader import Lease
from bot.locks import single_runner_lock


def _health(database_url: str, tmp_path, **extra) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COORDBOT_")}
    env.update({"COORDBOT_DATA_DIR": str(tmp_path), "COORDBOT_DATABASE_URL": database_url,
                "COORDBOT_TELEGRAM_TOKEN": "4242:health-check-token"}, **extra)
    return subprocess.run([sys.executable, "-m", "bot", "health"], env=env, capture_output=True,
                          text=True, timeout=60)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_database_is_unhealthy(tmp_path):
    result = _health(f"postgresql://nobody@127.0.0.1:{_free_port()}/none", tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("FAIL database:") and "Traceback" not in result.stderr


async def test_healthy_only_while_an_instance_receives(tmp_path, database_url):
    db = Database(database_url)
    from bot.migrations import upgrade
    await upgrade(db)
    try:
        idle = _health(database_url, tmp_path)
        assert idle.returncode == 1
        assert "FAIL telegram:4242" in idle.stdout and "ok   database" in idle.stdout
        assert "health-check-token" not in idle.stdout

        lease = Lease(db, "telegram:4242")
        runner = single_runner_lock(database_url) if not lease.shared else None
        assert await lease.try_acquire()
        try:
            busy = _health(database_url, tmp_path)
        finally:
            await lease.release()
            if runner is not None:
                runner.release()
        assert busy.returncode == 0, busy.stdout
        assert "ok   telegram:4242" in busy.stdout
    finally:
        await db.dispose()
