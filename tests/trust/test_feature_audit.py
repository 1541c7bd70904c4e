"""Every feature's privileged actions land in the audit log (who, when, what), with ids and
counts only: after each action an admin's `/audit` lists it."""
from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.cli import main
from bot.messages import Attachment
from bot.trust.models import AuditEntry
from tests.checkins.conftest import checkin_bot, deliver, register  # noqa: F401 - fixture
from tests.directory.conftest import SAMPLE
from tests.harness import make_bot
from tests.trust.helpers import fresh_audit_log


async def latest(bot) -> str:
    """The newest audit line as an admin reads it."""
    return (await bot.ask("/audit 1", as_="alice")).splitlines()[-1]


async def confirm(bot, command: str, as_: str = "alice", **kwargs) -> str:
    await bot.say(command, as_=as_, **kwargs)
    return await bot.ask("1", as_=as_, **kwargs)


async def test_directory_import_export_and_verification_for_others_are_audited(bot):
    answer = await bot.ask("/import replace", as_="alice",
                           attachment=Attachment("dir.csv", SAMPLE.read_bytes(), "text/csv"))
    assert "Directory updated" in answer
    line = await latest(bot)
    assert "directory.import" in line and "created=84" in line and "replace=True" in line
    await bot.say("/export_directory", as_="alice")
    assert "directory.export" in await latest(bot)
    assert "Thank you" in await bot.ask("/verify cpas-liege ok", as_="alice")
    line = await latest(bot)
    assert "directory.verify" in line and "entry:cpas-liege" in line and "answer=ok" in line


async def test_refused_import_is_not_audited(bot):
    await fresh_audit_log(bot)
    await bot.say("/import", as_="mallory",
                  attachment=Attachment("dir.csv", SAMPLE.read_bytes(), "text/csv"))
    assert "empty" in await bot.ask("/audit", as_="alice")


def test_command_line_import_is_audited_without_an_actor(tmp_path, database_url, monkeypatch):
    monkeypatch.setenv("COORDBOT_DATABASE_URL", database_url)
    monkeypatch.setenv("COORDBOT_DATA_DIR", str(tmp_path / "var"))
    assert main(["directory", "import", str(SAMPLE), "--replace"]) == 0

    async def check():
        bot = await make_bot(tmp_path, database_url, admins=["console:alice"])
        try:
            async with bot.services.db.session() as session:
                entry = await session.scalar(select(AuditEntry).where(
                    AuditEntry.action == "directory.import"))
            assert entry.actor_user_id is None and entry.details["via"] == "cli"
            assert entry.details["created"] == 84
            assert "directory.import" in await bot.ask("/audit", as_="alice")
        finally:
            await bot.close()

    asyncio.run(check())


async def test_schedule_changes_for_others_and_broadcasts_are_audited(bot):
    await bot.say("/whoami", as_="bob")
    assert "Saved as R1" in await confirm(bot, "/meeting every monday 10:00; Team; @bob")
    line = await latest(bot)
    assert "reminders.create_meeting" in line and "schedule:1" in line
    assert "Team" not in line  # never the message body
    assert "Saved as R1" in await confirm(bot, "/edit R1; -; Team meeting")
    line = await latest(bot)
    assert "reminders.edit" in line and "text" in line
    assert "Skipped" in await bot.ask("/skip R1", as_="alice")
    assert "reminders.skip" in await latest(bot)
    assert "cancelled" in await bot.ask("/cancel R1", as_="alice")
    assert "reminders.cancel" in await latest(bot)
    assert "on its way" in await confirm(bot, "/broadcast all; Shelter full tonight")
    line = await latest(bot)
    assert "broadcast.send" in line and "broadcast:1" in line and "chats=" in line
    assert "Shelter" not in line


async def test_a_coordinator_managing_someone_elses_reminder_is_audited(bot):
    await fresh_audit_log(bot)
    assert "Saved as R1" in await confirm(bot, "/remind every monday 9:00; my own note", as_="bob")
    assert "empty" in await bot.ask("/audit", as_="alice")  # one's own reminder: private
    assert "Skipped" in await bot.ask("/skip R1", as_="alice")
    line = await latest(bot)
    assert "reminders.skip" in line and "schedule:1" in line
    assert "cancelled" in await bot.ask("/cancel R1", as_="alice")
    assert "reminders.cancel" in await latest(bot)


async def test_check_in_rounds_results_and_exports_are_audited(checkin_bot):  # noqa: F811
    bot = checkin_bot
    await register(bot, ["fred"])
    await bot.say("/rounds open weekly_local; 2026-03-06 17:00; role:focal_point", as_="alice",
                  chat="coord")
    assert "is open" in await bot.ask("1", as_="alice", chat="coord")
    line = await latest(bot)
    assert "checkins.round_open" in line and "round:1" in line and "asked=1" in line
    await bot.say("/results weekly_local", as_="alice")
    assert "checkins.results" in await latest(bot)
    await bot.say("/export weekly_local", as_="alice")
    line = await latest(bot)
    assert "checkins.export" in line and "rows=0" in line
    assert "closed" in await bot.ask("/rounds close weekly_local", as_="alice")
    assert "checkins.round_close" in await latest(bot)
    await deliver(bot)
