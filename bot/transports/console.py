"""The console transport: the same bot in a terminal. Interactive with line editing on a TTY;
with piped input it reads one message a line, prints each reply and exits at end of input."""
from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from bot.markup import to_plain
from bot.messages import ChatRef, IncomingMessage, Reply
from bot.transports.base import Receiver, SendResult


class ConsoleTransport:
    platform = "console"

    def __init__(self, user: str = "console", language: str | None = None,
                 stdin: TextIO | None = None, stdout: TextIO | None = None,
                 interactive: bool | None = None):
        self.user = user
        self.language = language
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.interactive = self.stdin.isatty() if interactive is None else interactive
        self.chat = ChatRef("console", user)
        self._sent = 0

    async def start(self, receive: Receiver) -> None:
        """Reads until end of input; returns when the conversation is over."""
        if self.interactive:
            _enable_line_editing()
        while True:
            line = await asyncio.to_thread(self._read_line)
            if line is None:
                return
            if self.interactive and line.strip() in {"/quit", "/exit"}:
                return
            await receive(IncomingMessage(chat=self.chat, sender_id=self.user, text=line,
                                          is_direct=True, sender_name=self.user,
                                          sender_username=self.user, language_hint=self.language))

    def _read_line(self) -> str | None:
        try:
            if self.interactive:
                return input("> ")
            line = self.stdin.readline()
            return line.rstrip("\r\n") if line else None
        except EOFError:
            return None

    async def send(self, chat: ChatRef, reply: Reply, *,
                   idempotency_key: str | None = None) -> SendResult:
        self.stdout.write(render(reply) + "\n")
        self.stdout.flush()
        self._sent += 1
        return SendResult(True, message_id=str(self._sent))

    async def stop(self) -> None:
        return None


def render(reply: Reply) -> str:
    lines = [to_plain(reply.text)]
    lines += [f"  {index}. {choice.label}" for index, choice in enumerate(reply.choices, 1)]
    if reply.attachment is not None:
        lines.append(f"  [file: {reply.attachment.filename}, {len(reply.attachment.content)} bytes]")
    return "\n".join(lines)


def _enable_line_editing() -> None:
    try:
        import readline  # noqa: F401 - importing it gives input() history and editing
    except ImportError:
        pass
