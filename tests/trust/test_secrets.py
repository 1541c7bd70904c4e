"""Secrets and personal data stay out of logs and out of `coordbot config check`."""
from __future__ import annotations

import io
import logging

import pytest

from bot.cli import main
from bot.config import load_settings
from bot.logs import configure_logging
from bot.messages import ChatRef, Reply
from tests.harness import make_bot
from tests.trust.helpers import code_in

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
MATRIX_PASSWORD = "correct horse battery staple"
EMAIL = "marie.dupont@cpas-liege.be"
PHONE = "+32 470 12 34 56"
BODY = "Our shelter in Seraing is full tonight"


def test_file_variants_feed_secrets(tmp_path):
    secret = tmp_path / "token"
    secret.write_text(TOKEN + "\n")
    settings = load_settings(environ={"COORDBOT_TELEGRAM_TOKEN_FILE": str(secret),
                                      "COORDBOT_DATA_DIR": str(tmp_path)})
    assert settings.telegram_token == TOKEN


def test_config_check_never_prints_secrets(tmp_path, monkeypatch, capsys):
    for name, value in {"TELEGRAM_TOKEN": TOKEN, "MATRIX_PASSWORD": MATRIX_PASSWORD,
                        "TELEGRAM_WEBHOOK_SECRET": "hook-secret-value",
                        "MATRIX_ACCESS_TOKEN": "syt_secretaccesstoken"}.items():
        path = tmp_path / name.lower()
        path.write_text(value)
        monkeypatch.setenv(f"COORDBOT_{name}_FILE", str(path))
    monkeypatch.setenv("COORDBOT_DATABASE_URL", "postgresql://bot:db-password-42@db/coordbot")
    monkeypatch.setenv("COORDBOT_DATA_DIR", str(tmp_path))
    assert main(["config", "check"]) == 0
    out = capsys.readouterr()
    printed = out.out + out.err
    for secret in (TOKEN, MATRIX_PASSWORD, "hook-secret-value", "syt_secretaccesstoken",
                   "db-password-42"):
        assert secret not in printed
    assert "telegram_token = ****" in printed


@pytest.fixture
def captured_logs():
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging("DEBUG", stream)
    yield stream
    root.handlers[:], level = saved
    root.setLevel(level)


async def failing_search(ctx):
    """A database error whose statement carries the person's text, as a real bug would."""
    from sqlalchemy import text
    await ctx.session.execute(text("SELECT * FROM no_such_table WHERE q = :q"),
                              {"q": ctx.message.text})


async def test_a_full_scenario_logs_no_bodies_tokens_codes_or_contact_details(
        tmp_path, database_url, captured_logs, monkeypatch):
    bot = await make_bot(tmp_path, database_url, admins=["console:alice"],
                         telegram_token=TOKEN, matrix_password=MATRIX_PASSWORD,
                         rate_limit_burst=5, rate_limit_per_minute=60)
    try:
        code = code_in(await bot.ask("/invite focal_point cpas-liege entry-7", as_="alice"))
        await bot.say(f"/start {code}", as_="marie")
        await bot.say("/start WRONG-CODE-AAAA-BBBB", as_="mallory")
        await bot.say(BODY, as_="marie")
        await bot.say(f"write to {EMAIL} or call {PHONE}", as_="marie")
        await bot.say("/role marie coordinator", as_="alice")
        monkeypatch.setattr(bot.services.router, "text_handler", failing_search)
        assert "something went wrong" in await bot.ask(f"{BODY} {EMAIL}", as_="marie")
        monkeypatch.undo()
        await bot.say("/mydata", as_="marie")
        async with bot.services.db.transaction() as session:
            await bot.services.outbox.enqueue(session, ChatRef("console", "marie"),
                                              Reply(BODY), "scenario-1")
        await bot.services.outbox.deliver_pending()  # no console transport: fails, logs
        for _ in range(8):
            await bot.say(f"{BODY} {EMAIL}", as_="mallory")
        await bot.services.trust.retention.run_due()
        await bot.say("/forget", as_="marie")
        await bot.say("yes", as_="marie")
    finally:
        await bot.close()
    logged = captured_logs.getvalue()
    assert "retention done" in logged and "handler failed" in logged  # the capture works
    for secret in (TOKEN, TOKEN.split(":")[1], MATRIX_PASSWORD, code, code.replace("-", ""),
                   BODY, EMAIL, PHONE, "marie", "Seraing"):
        assert secret not in logged, secret
