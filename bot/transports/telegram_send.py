"""Sending for the Telegram transport: a reply as HTML pieces of at most 4,096 characters, its
choices as an inline keyboard, its file with a caption; every request paced by the rate
limiter and retried by the `telegram.request` policy.

A 429 whose `retry_after` the policy waits out pauses that chat in the limiter and is retried;
a longer one (or one too many) ends with `Undeliverable.retry_after` set, so that the outbox
pauses the platform. A chat that blocked the bot (403) is a permanent failure."""
from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeVar
from collections.abc import Awaitable, Callable, Iterable

from telegram import (Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile,
                      LinkPreviewOptions, Message)
from telegram.constants import ParseMode
from telegram.error import (BadRequest, ChatMigrated, Forbidden, InvalidToken, NetworkError,
                            RetryAfter)

from bot.messages import Attachment, Choice, Reply
from bot.retry import Retry, RetryPolicy
from bot.transports.telegram_format import (MAX_CAPTION, MAX_TEXT, render, split_markup,
                                            telegram_length)
from bot.transports.telegram_limits import RateLimiter

CHOSEN = "coordbot:chosen"      # callback data of the button that shows the choice made
MAX_CALLBACK_DATA = 64          # bytes, a Bot API limit

T = TypeVar("T")


class Undeliverable(Exception):
    def __init__(self, reason: str, *, permanent: bool, unreachable: bool = False,
                 retry_after: float | None = None):
        super().__init__(reason)
        self.reason, self.permanent, self.unreachable = reason, permanent, unreachable
        self.retry_after = retry_after


class _Migrated(Exception):
    """The group became a supergroup: the same request again, to its new id."""


def classify_error(error: BaseException | None, _result: Any) -> Retry | None:
    """Flood control (after its `retry_after`), a migrated chat and network errors (timeouts,
    HTTP 5xx, dropped connections) are retried; anything else is final."""
    if isinstance(error, RetryAfter):
        return Retry(after=retry_after_seconds(error))
    if isinstance(error, _Migrated):
        return Retry(after=0.0)
    if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        return Retry()
    return None


def retry_after_seconds(exc: RetryAfter) -> float:
    value = exc._retry_after  # noqa: SLF001 - the timedelta, without PTB's deprecation warning
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramSender:
    def __init__(self, bot: Bot, limiter: RateLimiter, policy: RetryPolicy):
        self.bot = bot
        self.limiter = limiter
        self.policy = policy

    async def call(self, request: Callable[[], Awaitable[T]]) -> T:
        """A request outside the paced sends (getMe, files, menus): network errors and flood
        control are waited out a few times."""
        return await self.policy.run(request, classify_error)

    async def send_reply(self, chat_id: int, thread_id: int | None, reply: Reply) -> int:
        pieces = split_markup(reply.text, MAX_TEXT)
        caption = None
        if reply.attachment is not None and len(pieces) == 1 \
                and telegram_length(render(pieces[0])[0]) <= MAX_CAPTION:
            caption = pieces.pop()
        keyboard = keyboard_of(reply.choices)
        message_id = 0
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1 and reply.attachment is None
            message_id = await self._send_text(chat_id, thread_id, piece,
                                               keyboard if last else None)
        if reply.attachment is not None:
            message_id = await self._send_file(chat_id, thread_id, reply.attachment, caption,
                                               keyboard)
        return message_id

    async def _send_text(self, chat_id: int, thread_id: int | None, piece: str,
                         keyboard: InlineKeyboardMarkup | None) -> int:
        html, plain = render(piece)

        def send_as(text: str, parse_mode: str | None) -> Callable[[int], Awaitable[Message]]:
            return lambda target: self.bot.send_message(
                target, text, parse_mode=parse_mode, reply_markup=keyboard,
                message_thread_id=thread_id,
                link_preview_options=LinkPreviewOptions(is_disabled=True))

        try:
            sent = await self.deliver(chat_id, send_as(html, ParseMode.HTML))
        except Undeliverable as exc:
            if "parse entities" not in exc.reason.lower():
                raise
            sent = await self.deliver(chat_id, send_as(plain, None))   # never lose a reply
        return sent.message_id

    async def _send_file(self, chat_id: int, thread_id: int | None, attachment: Attachment,
                         caption: str | None, keyboard: InlineKeyboardMarkup | None) -> int:
        method = self.bot.send_photo if attachment.is_image else self.bot.send_document
        field = "photo" if attachment.is_image else "document"
        html = render(caption)[0] if caption else None

        def upload(target: int) -> Awaitable[Message]:
            return method(target, **{field: InputFile(attachment.content,  # type: ignore[arg-type]
                                                      filename=attachment.filename)},
                          caption=html, parse_mode=ParseMode.HTML if html else None,
                          reply_markup=keyboard, message_thread_id=thread_id)

        sent = await self.deliver(chat_id, upload)
        return sent.message_id

    async def deliver(self, chat_id: int,
                      request: Callable[[int], Awaitable[Message]]) -> Message:
        """One paced request to a chat, retried through flood control and network errors."""
        target = chat_id

        async def attempt() -> Message:
            nonlocal target
            await self.limiter.acquire(target)
            try:
                return await request(target)
            except RetryAfter as exc:
                wait = retry_after_seconds(exc)
                if wait <= self.policy.max_pause:
                    self.limiter.pause(target, wait)
                raise
            except ChatMigrated as exc:
                if target != chat_id:
                    raise Undeliverable("chat migrated twice", permanent=False) from exc
                target = exc.new_chat_id
                raise _Migrated() from exc
            except Forbidden as exc:
                raise Undeliverable(exc.message, permanent=True, unreachable=True) from exc
            except BadRequest as exc:
                unreachable = "chat not found" in exc.message.lower()
                raise Undeliverable(exc.message, permanent=True, unreachable=unreachable) \
                    from exc
            except InvalidToken as exc:
                raise Undeliverable("invalid bot token", permanent=False) from exc

        try:
            return await self.policy.run(attempt, classify_error)
        except RetryAfter as exc:
            wait = retry_after_seconds(exc)
            raise Undeliverable(f"flood control: retry after {wait:.0f} s", permanent=False,
                                retry_after=wait) from exc
        except NetworkError as exc:
            raise Undeliverable(f"network: {exc.message}", permanent=False) from exc
        except _Migrated as exc:
            raise Undeliverable("too many retries", permanent=False) from exc


def keyboard_of(choices: Iterable[Choice]) -> InlineKeyboardMarkup | None:
    rows = [[InlineKeyboardButton(choice.label, callback_data=_callback_data(choice, number))]
            for number, choice in enumerate(choices, 1)]
    return InlineKeyboardMarkup(rows) if rows else None


def _callback_data(choice: Choice, number: int) -> str:
    """The choice's value; its number when the value is over Telegram's 64 bytes (handlers
    accept the number of a choice as well as its value)."""
    size = len(choice.value.encode("utf-8"))
    return choice.value if 0 < size <= MAX_CALLBACK_DATA and choice.value != CHOSEN \
        else str(number)
