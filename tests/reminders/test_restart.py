"""The real bot process (`coordbot chat`, console transport, SQLite file or PostgreSQL) is
killed with SIGKILL while reminders are pending, restarted after their time, and must deliver
each exactly once, marked late; a further restart must not send anything again.

The process's clock is shifted with COORDBOT_FAKE_NOW so that "two hours later" takes a
second, not two hours."""
from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, UTC

import pytest

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Monday 10:00 in Brussels
TIMEOUT = 60.0


class BotProcess:
    def __init__(self, data_dir, fake_now: datetime):
        env = {k: v for k, v in os.environ.items() if not k.startswith("COORDBOT_")}
        env.update({"COORDBOT_DATA_DIR": str(data_dir), "COORDBOT_LOAD_BUNDLED_DATA": "false",
                    "COORDBOT_FAKE_NOW": fake_now.isoformat(), "COORDBOT_LOG_LEVEL": "WARNING",
                    "COORDBOT_REMINDERS_TICK_SECONDS": "1"})
        if os.environ.get("COORDBOT_TEST_DATABASE_URL"):
            env["COORDBOT_DATABASE_URL"] = os.environ["COORDBOT_TEST_DATABASE_URL"]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "chat", "--as", "alice"], env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=1)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def say(self, text: str) -> None:
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()

    def wait_for(self, fragment: str, timeout: float = TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not any(fragment in line for line in self.seen):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.process.poll() is not None:
                raise AssertionError(f"no {fragment!r} in output: {self.seen}")
            try:
                self.seen.append(self.lines.get(timeout=min(remaining, 1.0)))
            except queue.Empty:
                continue

    def drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self.seen.append(self.lines.get(timeout=0.1))
            except queue.Empty:
                continue

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def count(self, text: str) -> int:
        return sum(1 for line in self.seen if line.startswith(text))


@pytest.mark.slow
def test_sigkill_then_restart_delivers_each_reminder_once_marked_late(tmp_path, database_url):
    first = BotProcess(tmp_path, T0)
    try:
        commands = ["/remind in 2 minutes; First", "/remind in 1 hour; Second",
                    "/remind every day at 10:30; Third"]
        for number, command in enumerate(commands, 1):
            first.say(command)
            first.say("1")
            first.wait_for(f"Saved as R{number}")
    finally:
        first.kill()  # reminders pending, nothing sent yet
    assert not any(line.startswith(("First", "Second", "Third")) for line in first.seen)

    second = BotProcess(tmp_path, T0 + timedelta(hours=2))  # 12:00 in Brussels
    try:
        for text in ("First (late: due at 10:02)", "Second (late: due at 11:0",
                     "Third (late: due at 10:30)"):
            second.wait_for(text)
        second.drain(3.0)  # several ticks: a duplicate would show up here
    finally:
        second.kill()
    for text in ("First", "Second", "Third"):
        assert second.count(text) == 1, second.seen

    third = BotProcess(tmp_path, T0 + timedelta(hours=2, minutes=1))
    try:
        third.drain(3.0)
        third.say("/reminders")
        third.wait_for("Reminders (1)")  # only the daily one is left
    finally:
        third.process.stdin.close()
        third.process.wait(timeout=30)
    assert not any(line.startswith(("First", "Second", "Third")) for line in third.seen)
