"""At COORDBOT_LOG_LEVEL=DEBUG the Matrix conversation leaves no body, name, password or
access token in the log, although matrix-nio and aiohttp carry them all (issue 11, item 5)."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

BODY = "Olena sleeps at the Seraing shelter tonight"
DISPLAY_NAME = "Olenka Kovalenko-Zhuk"


async def test_debug_log_of_a_matrix_conversation_holds_no_body_name_or_secret(
        debug_logs, matrix_bot, people):
    olena = await people("olena")
    await olena.client.set_displayname(DISPLAY_NAME)
    room = await olena.direct_chat(matrix_bot.user_id, encrypted=True)

    whoami = await olena.ask(room, matrix_bot.user_id, "!whoami")
    answer = await olena.ask(room, matrix_bot.user_id, BODY)

    assert answer.decrypted and f"matrix:{olena.user_id}" in whoami.body
    logged = debug_logs.getvalue()
    assert "matrix logged in" in logged                      # the capture works
    secrets = (BODY, "Seraing", DISPLAY_NAME, "Kovalenko", matrix_bot.account.password,
               matrix_bot.transport.client.access_token, olena.client.access_token)
    for secret in secrets:
        assert secret not in logged, secret
