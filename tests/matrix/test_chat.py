"""The bot on a real Synapse, driven by people using matrix-nio."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


async def test_direct_encrypted_chat_answers_help_with_html_notice(matrix_bot, people):
    alice = await people("alice")
    room = await alice.direct_chat(matrix_bot.user_id, encrypted=True)

    answer = await alice.ask(room, matrix_bot.user_id, "/help")

    assert alice.client.rooms[room].encrypted
    assert answer.decrypted, "the bot's answer in an encrypted room must be encrypted"
    assert answer.source["content"]["msgtype"] == "m.notice"
    assert "What you can do here" in answer.body
    assert "<code>" in answer.formatted_body
    assert "!whoami" in answer.body
