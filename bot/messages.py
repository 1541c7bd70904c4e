"""The platform-neutral message model every transport translates to and from."""
from __future__ import annotations

from dataclasses import dataclass, field

PLATFORMS = ("console", "telegram", "matrix")
# Element reads a leading "/" as its own command, so commands are written "!help" there.
_COMMAND_PREFIXES = {"matrix": "!"}


def command_prefix(platform_or_chat_key: str | None) -> str:
    """The character commands start with on a platform: `command_prefix("matrix")` or
    `command_prefix("matrix:!room:server")` is "!", everything else "/"."""
    platform = (platform_or_chat_key or "").partition(":")[0]
    return _COMMAND_PREFIXES.get(platform, "/")


@dataclass(frozen=True)
class ChatRef:
    """An addressable chat, storable as one string (`telegram:12345`, `matrix:!room:server`)
    so that scheduled jobs can reach it later."""

    platform: str
    chat_id: str
    thread_id: str | None = None

    def key(self) -> str:
        return f"{self.platform}:{self.chat_id}"

    @classmethod
    def parse(cls, key: str) -> ChatRef:
        platform, _, chat_id = key.partition(":")
        if platform not in PLATFORMS or not chat_id:
            raise ValueError(f"not a chat reference: {key!r}")
        return cls(platform, chat_id)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"

    @property
    def is_image(self) -> bool:
        return self.mime_type.startswith("image/")


@dataclass(frozen=True)
class Choice:
    """A button (Telegram), a numbered option (Matrix, console). Pressing it sends `value`
    back as if typed, so every transport needs nothing more than text."""

    label: str
    value: str


@dataclass
class IncomingMessage:
    chat: ChatRef
    sender_id: str
    text: str
    is_direct: bool = True
    sender_name: str | None = None
    sender_username: str | None = None
    language_hint: str | None = None
    message_id: str | None = None
    reply_to: str | None = None
    attachment: Attachment | None = None
    # Set by transports when the user is addressing the bot in a group (reply to it, mention).
    addressed: bool = False
    # False for a local terminal: the per-person flood limit guards the remote platforms,
    # and piped console input must be answered line by line, never dropped.
    metered: bool = True

    @property
    def identity(self) -> str:
        return f"{self.chat.platform}:{self.sender_id}"


@dataclass
class Reply:
    """What a handler answers. `text` uses the light markup of `bot.markup`."""

    text: str
    choices: list[Choice] = field(default_factory=list)
    attachment: Attachment | None = None

    def plain(self) -> str:
        from bot.markup import to_plain

        return to_plain(self.text)
