"""The console sends a file only with a command that takes one (`/import < FILE`); anywhere
else `< path` is literal text."""
from __future__ import annotations

import io

from bot.messages import Reply
from bot.transports.console import ConsoleTransport, attach_file


def test_only_file_commands_attach_a_file(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("password\n", encoding="utf-8")
    line = f"/remind in 5 minutes; check < {secret}"
    assert attach_file(line) == (line, None)
    assert attach_file(f"who handles housing < {secret}") == (f"who handles housing < {secret}",
                                                              None)
    text, attachment = attach_file(f"/import replace < {secret}")
    assert text == "/import replace" and attachment.content == b"password\n"
    assert attach_file(f"/import < {secret}", frozenset())[1] is None


async def test_the_transport_passes_other_lines_literally(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("password\n", encoding="utf-8")
    received = []
    console = ConsoleTransport(user="ann", stdin=io.StringIO(f"/remind x < {secret}\n"),
                               stdout=io.StringIO(), interactive=False,
                               file_commands=frozenset({"import"}))

    async def receive(message):
        received.append((message.text, message.attachment))
        await console.send(message.chat, Reply("ok"))

    await console.start(receive)
    assert received == [(f"/remind x < {secret}", None)]


def test_coordbot_chat_takes_file_commands_from_the_router():
    from bot.handlers import FEATURES
    from bot.router import Router, file_commands

    assert file_commands(Router(FEATURES)) == frozenset({"import", "forms"})
