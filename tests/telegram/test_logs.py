"""At COORDBOT_LOG_LEVEL=DEBUG the log holds no message body, no name, no token and no webhook
secret, although python-telegram-bot, httpx and aiohttp all carry them (issue 11, item 5)."""
from __future__ import annotations

import socket

import pytest

from tests.telegram.conftest import start_telegram
from tests.telegram.fake_bot_api import TOKEN

BODY = "Olena sleeps at the Seraing shelter tonight"
FIRST, LAST, USERNAME = "Olenka", "Kovalenko-Zhuk", "olena_kz_1987"
WEBHOOK_SECRET = "Hook-Secret-Marmot-7731"
CHAT = 6101


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _use_webhook(settings) -> None:
    port = _free_port()
    settings.telegram_webhook_url = f"http://127.0.0.1:{port}/telegram/hook"
    settings.telegram_webhook_listen = f"127.0.0.1:{port}"
    settings.telegram_webhook_secret = WEBHOOK_SECRET


def _send_as_olena(fake, text: str) -> None:
    update = fake.send_text(CHAT, text, username=USERNAME, lang="fr")
    for person in (update["message"]["from"], update["message"]["chat"]):
        person.update(first_name=FIRST, last_name=LAST)


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_debug_log_of_a_telegram_conversation_holds_no_body_name_or_secret(
        app, fake, debug_logs, mode):
    if mode == "webhook":
        _use_webhook(app.services.settings)
    transport = await start_telegram(app, fake)
    try:
        _send_as_olena(fake, f"/techo {BODY}")
        _send_as_olena(fake, BODY)             # free text: the directory search
        replies = await fake.wait_for_sent(CHAT, 2)
    finally:
        await transport.stop()
    assert BODY in replies[0].text            # the body did travel through the libraries
    logged = debug_logs.getvalue()
    assert f"mode={mode}" in logged            # the capture works
    for secret in (BODY, "Seraing", FIRST, LAST, USERNAME, TOKEN, TOKEN.partition(":")[2],
                   WEBHOOK_SECRET):
        assert secret not in logged, secret
