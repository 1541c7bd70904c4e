"""The log configuration itself: libraries say nothing below WARNING whatever level they set,
and what they do say is masked (issue 11, item 5). The transports are tested end to end in
tests/telegram/test_logs.py, tests/transports/test_console.py and tests/matrix/test_logs.py."""
from __future__ import annotations

import logging

import pytest

BODY = "Olena sleeps at the Seraing shelter tonight"
NAME = "Kovalenko-Zhuk"
TOKEN = "987654321:AAF-short_test_token"     # too short for the token pattern: hidden by value
SECRET = "Hook-Secret-Marmot-7731"
LIBRARIES = ["telegram.Bot", "telegram.ext.Application", "httpx", "httpcore", "nio.responses",
             "nio.http", "aiohttp.client", "aiohttp.access", "apscheduler.scheduler",
             "sqlalchemy.engine.Engine", "asyncpg", "a.library.nobody.knows.yet"]


@pytest.fixture
def libraries_at_debug():
    """Every library logger set to DEBUG by itself, as some do on import or on a whim."""
    loggers = [logging.getLogger(name) for name in LIBRARIES]
    saved = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    yield loggers
    for logger, level in zip(loggers, saved, strict=True):
        logger.setLevel(level)


def test_libraries_print_nothing_below_warning_at_debug(debug_logs, libraries_at_debug):
    for logger in libraries_at_debug:
        logger.debug("Calling Bot API endpoint `sendMessage` with parameters %s",
                     {"text": BODY, "secret_token": SECRET})
        logger.info("HTTP Request: POST http://127.0.0.1/bot%s/getUpdates", TOKEN)
    logging.getLogger("coordbot.test").debug("our own debug line", extra={"fields": {"n": 1}})
    logged = debug_logs.getvalue()
    assert "our own debug line" in logged and "n=1" in logged
    for logger in libraries_at_debug:
        assert f"logger={logger.name} " not in logged, logger.name


def test_library_warnings_are_shown_with_bodies_names_and_secrets_masked(debug_logs):
    from bot.logs import hide

    hide(TOKEN, SECRET)
    logging.getLogger("nio.responses").warning(
        "Error validating response: %s", {"content": {"body": BODY, "msgtype": "m.text"},
                                          "displayname": NAME, "secret_token": SECRET})
    logging.getLogger("telegram.Bot").error(
        'Bad Request for {"text": "%s", "first_name": "%s"} at /bot%s/sendMessage',
        BODY, NAME, TOKEN)
    logged = debug_logs.getvalue()
    assert "logger=nio.responses" in logged and "logger=telegram.Bot" in logged
    assert "m.text" in logged and "/sendMessage" in logged      # the rest stays readable
    for secret in (BODY, NAME, TOKEN, SECRET):
        assert secret not in logged, secret


def test_our_own_lines_are_masked_too(debug_logs):
    from bot.logs import hide

    hide(SECRET)
    try:
        raise ValueError(f"webhook refused with secret_token={SECRET}")
    except ValueError:
        logging.getLogger("coordbot.test").exception("failed", extra={"fields": {
            "text": BODY, "url": f"https://example.org/{SECRET}"}})
    logged = debug_logs.getvalue()
    assert "event=failed" in logged and "error=ValueError" in logged
    assert BODY not in logged and SECRET not in logged


def test_console_chat_at_debug_logs_no_body_or_name(tmp_path, database_url):
    from tests.transports.test_console import _chat

    result = _chat(tmp_path, ["/whoami", BODY, "/lang fr", f"logement {BODY}"],
                   "--as", "olena_kz_1987", env={"COORDBOT_LOG_LEVEL": "DEBUG",
                                                  "COORDBOT_LOAD_BUNDLED_DATA": "true"})
    assert result.returncode == 0, result.stderr
    assert "olena_kz_1987" in result.stdout                       # the chat itself is there
    assert "logger=coordbot.directory" in result.stderr           # and so is the log
    for secret in (BODY, "Seraing", "olena_kz_1987", "logement"):
        assert secret not in result.stderr, secret
