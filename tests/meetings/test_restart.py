"""The real bot process is killed with SIGKILL while action reminders are due, restarted, and
must deliver each once; a further restart sends nothing again (issue 16's target). The clock
is shifted with COORDBOT_FAKE_NOW, as in tests/reminders/test_restart.py."""
from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest

from tests.reminders.test_restart import T0, BotProcess

REMINDER = "Reminder: action A"


class AdminBot(BotProcess):
    """The same process, with alice as admin (meetings and actions are coordinators')."""

    def __init__(self, data_dir, fake_now):
        real_popen = subprocess.Popen

        def popen(args, env, **kwargs):
            return real_popen(args, env={**env, "COORDBOT_ADMINS": "console:alice"}, **kwargs)

        subprocess.Popen = popen
        try:
            super().__init__(data_dir, fake_now)
        finally:
            subprocess.Popen = real_popen


@pytest.mark.slow
def test_sigkill_then_restart_delivers_each_action_reminder_once(tmp_path, database_url):
    first = AdminBot(tmp_path, T0)
    try:
        first.say("/meeting every first tuesday of the month at 10:00; Coordination; here")
        first.say("1")
        first.wait_for("Saved as R1")
        for number, (when, text) in enumerate([("friday", "Report"), ("thursday", "Figures")], 1):
            first.say(f"/action R1; @alice; {when}; {text}")
            first.say("1")
            first.wait_for(f"Saved as action A{number}")
    finally:
        first.kill()
    assert first.count(REMINDER) == 0

    second = AdminBot(tmp_path, T0 + timedelta(days=3))  # Thursday 10:00 in Brussels
    try:
        second.wait_for(REMINDER + "1 ")
        second.wait_for(REMINDER + "2 ")
        second.drain(3.0)  # several ticks: a duplicate would show up here
    finally:
        second.kill()
    assert second.count(REMINDER + "1 ") == 1 and second.count(REMINDER + "2 ") == 1, second.seen

    third = AdminBot(tmp_path, T0 + timedelta(days=3, minutes=1))
    try:
        third.drain(3.0)
    finally:
        third.process.stdin.close()
        third.process.wait(timeout=30)
    assert third.count(REMINDER) == 0, third.seen
