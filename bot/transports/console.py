"""The console transport: the same bot in a terminal. Interactive with line editing on a TTY;
with piped input it reads one message a line, prints each reply and exits at end of input."""
from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path
from typing import TextIO

from bot.markup import to_plain
from bot.messages import Attachment, ChatRef, IncomingMessage, Reply
from bot.transports.base import Receiver, SendResult


class ConsoleTransport:
    platform = "console"

    def __init__(self, user: str = "console", language: str | None = None,
                 stdin: TextIO | None = None, stdout: TextIO | None = None,
                 interactive: bool | None = None, files_dir: Path | None = None,
                 file_commands: frozenset[str] | None = None):
        self.user = user
        # Only these commands take a file (`/import < FILE`); any other line is literal text.
        self.file_commands = FILE_COMMANDS if file_commands is None else frozenset(file_commands)
        self.files_dir = files_dir
        self.language = language
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.interactive = self.stdin.isatty() if interactive is None else interactive
        self.chat = ChatRef("console", user)
        # One person per terminal: messages queued for other console people wait for theirs.
        self.served_chats: frozenset[str] | None = frozenset({self.chat.key()})
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
            text, attachment = await asyncio.to_thread(attach_file, line, self.file_commands)
            await receive(IncomingMessage(chat=self.chat, sender_id=self.user, text=text,
                                          is_direct=True, sender_name=self.user,
                                          sender_username=self.user, language_hint=self.language,
                                          attachment=attachment, metered=False))

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
        if self.served_chats is not None and chat.key() not in self.served_chats:
            return SendResult(False, error="another person's console")
        saved = await asyncio.to_thread(self._save, reply) if reply.attachment else None
        self.stdout.write(render(reply, saved) + "\n")
        self.stdout.flush()
        self._sent += 1
        return SendResult(True, message_id=str(self._sent))

    async def stop(self) -> None:
        return None

    def _save(self, reply: Reply) -> Path | None:
        """Files sent to the console land in a folder so the user can open them."""
        if self.files_dir is None or reply.attachment is None:
            return None
        self.files_dir.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]", "_", reply.attachment.filename) or "file"
        path = self.files_dir / name
        path.write_bytes(reply.attachment.content)
        return path


_SEND_FILE = re.compile(r"^([/!]([A-Za-z_][A-Za-z0-9_]*)\b[^<]*?)\s*<\s*(\S+)\s*$")
# The commands that take a file when `coordbot chat` is not told otherwise (it passes the
# router's list: Command.takes_file).
FILE_COMMANDS = frozenset({"import", "forms"})
_MIME = {".csv": "text/csv", ".xlsx": "application/vnd.openxmlformats-officedocument."
         "spreadsheetml.sheet", ".yaml": "application/yaml", ".yml": "application/yaml"}


def attach_file(line: str, file_commands: frozenset[str] = FILE_COMMANDS
                ) -> tuple[str, Attachment | None]:
    """`/import < directory.csv` sends the file with the message, as a chat app would. Only a
    command that takes a file does so: elsewhere `< path` is text like any other (a reminder
    saying "check < /etc/passwd" must not send that file to the bot)."""
    match = _SEND_FILE.match(line.strip())
    if not match or match.group(2).lower() not in file_commands:
        return line, None
    path = Path(match.group(3)).expanduser()
    if not path.is_file():
        return line, None
    mime = _MIME.get(path.suffix.lower(), "application/octet-stream")
    return match.group(1), Attachment(path.name, path.read_bytes(), mime)


def render(reply: Reply, saved: Path | None = None) -> str:
    lines = [to_plain(reply.text)]
    lines += [f"  {index}. {choice.label}" for index, choice in enumerate(reply.choices, 1)]
    if reply.attachment is not None:
        where = f" saved to {saved}" if saved else ""
        lines.append(f"  [file: {reply.attachment.filename}, "
                     f"{len(reply.attachment.content)} bytes{where}]")
    return "\n".join(lines)


def _enable_line_editing() -> None:
    try:
        import readline  # noqa: F401 - importing it gives input() history and editing
    except ImportError:
        pass
