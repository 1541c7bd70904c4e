"""The Telegram transport: a thin translator between the Bot API (python-telegram-bot 22) and
the neutral model of `bot.messages`. It knows nothing of features: the command menu it
publishes is handed to it ready-made.

Receiving. Long polling by default; webhook mode when a webhook URL is configured (the secret
token is always checked: a random one is made when none is configured). Private chats get
everything; in groups only commands (`/cmd` or `/cmd@thisbot`), replies to the bot's own
messages and mentions of the bot reach the core, marked `addressed`. A button press is
answered, its keyboard is replaced by the chosen label, and the choice's value goes to the core
as the user's text. Documents (and photos) are downloaded into the message's `Attachment`.

Delivery guarantee. Updates are fetched with our own getUpdates loop rather than PTB's
Updater, because the Updater confirms a batch (by asking for the next offset) as soon as it
was fetched, before it was handled: a crash then loses it. Here a batch is handled first —
chats concurrently, each chat's updates in order — every handled update id is recorded in the
database (`bot.transports.telegram_state`), and only then is the next offset stored and sent.
After a restart the stored offset is asked for and recorded ids are skipped: no update is
lost and none is handled twice. The one window left is a crash between the core's commit of a
message and the recording of its id (milliseconds): that update is handled again.

Sending. HTML rendered from the light markup (escaped), split over 4,096 characters,
choices as an inline keyboard. A rate limiter keeps ~30 messages/s overall and 20/min per
group; a 429 pauses that chat for `retry_after` and the message is retried, and a longer
wait than the `telegram.request` policy allows is handed back as `SendResult.retry_after`
(the outbox then pauses Telegram); network errors are retried with the policy's backoff; a
chat that blocked the bot (403) is a permanent failure and is reported unreachable
(`bot.transports.telegram_send`)."""
from __future__ import annotations

import asyncio
import hmac
import logging
import re
import secrets
from collections import OrderedDict, defaultdict
from functools import partial
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from telegram import (Bot, BotCommand, CallbackQuery, ChatMemberUpdated, InlineKeyboardButton,
                      InlineKeyboardMarkup, Message, Update)
from telegram.constants import ChatType
from telegram.error import InvalidToken, TelegramError
from telegram.request import HTTPXRequest

from bot.db import Database
from bot.logs import hide
from bot.messages import Attachment, ChatRef, IncomingMessage, Reply
from bot.retry import TelegramRetries
from bot.transports.base import Receiver, SendResult
from bot.transports.telegram_limits import RateLimiter
from bot.transports.telegram_send import CHOSEN, TelegramSender, Undeliverable
from bot.transports.telegram_state import Claim, UpdateLog

if TYPE_CHECKING:
    from aiohttp import web

log = logging.getLogger("coordbot.telegram")

DEFAULT_API_URL = "https://api.telegram.org"
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_DOWNLOAD = 20 * 1024 * 1024  # the Bot API serves files up to 20 MB
STOP_GRACE = 20.0
_COMMAND = re.compile(r"^/[A-Za-z0-9_]+(?:@([A-Za-z0-9_]+))?")
_VALID_MENU_COMMAND = re.compile(r"[a-z0-9_]{1,32}")

Menus = dict[str, list[tuple[str, str]]]   # language ("en" = default) → (command, summary)
UnreachableRecorder = Callable[[ChatRef], Awaitable[None]]


class TelegramTransport:
    platform = "telegram"

    def __init__(self, token: str, db: Database, *, api_url: str = "", webhook_url: str = "",
                 webhook_secret: str = "", webhook_listen: str = "127.0.0.1:8443",
                 menus: Menus | None = None, on_unreachable: UnreachableRecorder | None = None,
                 poll_timeout: int = 25, limiter: RateLimiter | None = None,
                 concurrent_chats: int = 16, retry: TelegramRetries | None = None):
        base = (api_url or DEFAULT_API_URL).rstrip("/").removesuffix("/bot")
        self.bot = Bot(token, base_url=f"{base}/bot", base_file_url=f"{base}/file/bot",
                       request=HTTPXRequest(connection_pool_size=128, read_timeout=20,
                                            write_timeout=20, connect_timeout=10,
                                            pool_timeout=30, media_write_timeout=60),
                       get_updates_request=HTTPXRequest(connection_pool_size=2,
                                                        read_timeout=10, connect_timeout=10))
        self.updates = UpdateLog(db, token.partition(":")[0])
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret or secrets.token_urlsafe(32)
        hide(token, token.partition(":")[2], self.webhook_secret)
        self.webhook_listen = webhook_listen
        self.menus = menus or {}
        self.on_unreachable = on_unreachable
        self.poll_timeout = poll_timeout
        self.limiter = limiter or RateLimiter()
        self.retry = retry or TelegramRetries()
        self.sender = TelegramSender(self.bot, self.limiter, self.retry.request)
        self._chat_slots = asyncio.Semaphore(concurrent_chats)
        self._receive: Receiver | None = None
        self._task: asyncio.Task | None = None
        self._handling = False
        self._stopping = False
        self._webhook_runner: web.AppRunner | None = None
        self._chat_locks: dict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._recent: OrderedDict[object, None] = OrderedDict()  # handled ids, pressed keyboards
        self.username = ""
        self.bot_id = 0

    # -- life cycle -----------------------------------------------------------------------
    async def start(self, receive: Receiver) -> None:
        """Connects, publishes the command menu, starts receiving in the background and
        returns."""
        self._receive = receive
        try:
            await self.sender.call(self.bot.initialize)   # getMe: fails at once on a bad token
        except InvalidToken:
            # PTB's message quotes the token; ours must not.
            raise RuntimeError("Telegram rejected the bot token (COORDBOT_TELEGRAM_TOKEN)") \
                from None
        self.username, self.bot_id = self.bot.username, self.bot.id
        await self._publish_menus()
        if self.webhook_url:
            await self._start_webhook()
        else:
            await self.sender.call(lambda: self.bot.delete_webhook(drop_pending_updates=False))
            self._task = asyncio.create_task(self._poll_forever(), name="telegram-polling")
        log.info("telegram transport started", extra={"fields": {
            "bot_id": self.bot_id, "mode": "webhook" if self.webhook_url else "polling"}})

    async def stop(self) -> None:
        """Stops receiving: a long poll in flight is abandoned (nothing it fetched was
        confirmed), a batch being handled is finished first."""
        if self._stopping:
            return
        self._stopping = True
        if self._task is not None:
            if not self._handling:
                self._task.cancel()   # waiting for updates: nothing fetched is confirmed
            try:
                await asyncio.wait_for(self._task, STOP_GRACE)
            except (TimeoutError, asyncio.CancelledError):
                pass
            except Exception:  # noqa: BLE001 - already logged by the loop
                pass
            self._task = None
        if self._webhook_runner is not None:
            await self._webhook_runner.cleanup()
            self._webhook_runner = None
        try:
            await self.bot.shutdown()
        except TelegramError:
            pass

    async def _publish_menus(self) -> None:
        for language, commands in self.menus.items():
            menu = [BotCommand(name, summary[:256]) for name, summary in commands
                    if _VALID_MENU_COMMAND.fullmatch(name) and summary.strip()][:100]
            try:
                await self.sender.call(partial(self.bot.set_my_commands, menu,
                                               language_code=None if language == "en"
                                               else language))
            except TelegramError as exc:
                log.warning("command menu not published", extra={"fields": {
                    "language": language, "error": type(exc).__name__}})

    # -- receiving: long polling ----------------------------------------------------------
    async def _poll_forever(self) -> None:
        offset: int | None = None
        handled: set[int] = set()
        loaded = False
        failures = 0
        while not self._stopping:
            try:
                if not loaded:
                    offset = await self.updates.next_offset()
                    handled = await self.updates.handled_from(offset)
                    loaded = True
                batch = await self.bot.get_updates(
                    offset=offset, limit=100, timeout=self.poll_timeout,
                    allowed_updates=ALLOWED_UPDATES)
                if not batch:
                    continue
                self._handling = True
                try:
                    await self._handle_batch([u for u in batch if u.update_id not in handled],
                                             handled)
                    offset = max(u.update_id for u in batch) + 1
                    await self.updates.advance(offset)
                finally:
                    self._handling = False
                handled = {update_id for update_id in handled if update_id >= offset}
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the loop must survive anything
                failures += 1
                log.warning("telegram polling failed", extra={"fields": {
                    "error": type(exc).__name__, "failures": failures}})
                await self.retry.polling.pause(failures)

    async def _handle_batch(self, batch: list[Update], handled: set[int]) -> None:
        by_chat: dict[int, list[Update]] = defaultdict(list)
        for update in batch:
            by_chat[_chat_id_of(update)].append(update)
        results = await asyncio.gather(*(self._handle_in_order(updates, handled)
                                         for updates in by_chat.values()),
                                       return_exceptions=True)
        problems = [r for r in results if isinstance(r, BaseException)]
        if problems:
            raise problems[0]

    async def _handle_in_order(self, updates: list[Update], handled: set[int]) -> None:
        for update in updates:
            async with self._chat_slots:
                await self._handle_safely(update)
            handled.add(update.update_id)
            await self.updates.mark_handled(update.update_id)

    # -- receiving: webhook -----------------------------------------------------------------
    async def _start_webhook(self) -> None:
        from aiohttp import web

        host, _, port = self.webhook_listen.rpartition(":")
        app = web.Application()
        app.router.add_post(urlsplit(self.webhook_url).path or "/", self._on_webhook)
        self._webhook_runner = web.AppRunner(app, access_log=None, shutdown_timeout=5)
        await self._webhook_runner.setup()
        await web.TCPSite(self._webhook_runner, host or "127.0.0.1", int(port)).start()
        await self.updates.prune_old()
        await self.sender.call(lambda: self.bot.set_webhook(
            self.webhook_url, secret_token=self.webhook_secret, allowed_updates=ALLOWED_UPDATES))

    async def _on_webhook(self, request):
        """Answers 200 only once the update was handled and recorded, so that Telegram
        redelivers anything a crash interrupted; redeliveries already handled are skipped."""
        from aiohttp import web

        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.webhook_secret.encode()):
            return web.Response(status=403)
        try:
            update = Update.de_json(await request.json(), self.bot)
        except Exception:  # noqa: BLE001 - not an update
            return web.Response(status=400)
        lock = self._chat_locks[_chat_id_of(update)]
        async with lock:
            if update.update_id in self._recent:
                return web.Response(text="ok")
            claim = await self.updates.claim(update.update_id)
            if claim is Claim.BUSY:   # another instance is on it: Telegram will ask again
                return web.Response(status=503)
            if claim is Claim.DONE:
                return web.Response(text="ok")
            await self._handle_safely(update)
            self._remember(update.update_id)
            await self.updates.finish(update.update_id)
        if len(self._chat_locks) > 1000:
            for chat_id in [c for c, lock in self._chat_locks.items() if not lock.locked()]:
                del self._chat_locks[chat_id]
        return web.Response(text="ok")

    # -- translating updates ----------------------------------------------------------------
    async def _handle_safely(self, update: Update) -> None:
        try:
            if update.message is not None:
                incoming = await self.incoming(update.message)
                if incoming is not None:
                    await self._hand_over(incoming)
            elif update.callback_query is not None:
                await self._on_button(update.callback_query)
            elif update.my_chat_member is not None:
                await self._on_membership(update.my_chat_member)
        except Exception:  # noqa: BLE001 - one bad update must not stop the others
            log.exception("telegram update not handled", extra={"fields": {
                "update_id": update.update_id}})

    async def incoming(self, message: Message) -> IncomingMessage | None:
        sender = message.from_user
        if sender is None or sender.is_bot:
            return None
        is_direct = message.chat.type == ChatType.PRIVATE
        text = message.text or message.caption or ""
        addressed = False
        if not is_direct:
            text, addressed = self._addressing(message, text)
            if not addressed:
                return None
        has_file = message.document is not None or bool(message.photo)
        if not text.strip() and message.effective_attachment is None:
            return None   # a service message (title changed, pinned, …)
        return IncomingMessage(
            chat=_chat_ref(message), sender_id=str(sender.id), text=text, is_direct=is_direct,
            sender_name=sender.full_name, sender_username=sender.username,
            language_hint=sender.language_code, message_id=str(message.message_id),
            reply_to=str(message.reply_to_message.message_id)
            if message.reply_to_message else None,
            attachment=await self._download(message) if has_file else None,
            addressed=addressed)

    def _addressing(self, message: Message, text: str) -> tuple[str, bool]:
        """In a group: is the bot addressed, and the text without a mention of it."""
        command = _COMMAND.match(text)
        if command:
            target = command.group(1)
            return text, target is None or target.lower() == self.username.lower()
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None \
                and replied.from_user.id == self.bot_id:
            return text, True
        mention = re.compile(rf"@{re.escape(self.username)}\b", re.I)
        if self.username and mention.search(text):
            return mention.sub("", text).strip(), True
        return text, False

    async def _download(self, message: Message) -> Attachment | None:
        if message.document is not None:
            document = message.document
            file_id, size = document.file_id, document.file_size or 0
            name = document.file_name or f"document_{message.message_id}"
            mime_type = document.mime_type or "application/octet-stream"
        else:
            photo = message.photo[-1]   # the largest size
            file_id, size = photo.file_id, photo.file_size or 0
            name, mime_type = f"photo_{message.message_id}.jpg", "image/jpeg"
        if size > MAX_DOWNLOAD:
            log.warning("telegram file too large to download", extra={"fields": {"size": size}})
            return None
        telegram_file = await self.sender.call(lambda: self.bot.get_file(file_id))
        content = await self.sender.call(telegram_file.download_as_bytearray)
        return Attachment(name, bytes(content), mime_type)

    async def _hand_over(self, incoming: IncomingMessage) -> None:
        if self._receive is not None:
            await self._receive(incoming)

    async def _on_button(self, query: CallbackQuery) -> None:
        message = query.message
        if message is None or query.data is None or query.data == CHOSEN:
            await self._quietly(query.answer())
            return
        user = query.from_user
        is_direct = message.chat.type == ChatType.PRIVATE
        label = _label_of(message, query.data) \
            if isinstance(message, Message) else query.data
        # A button whose value is a whole command (`/ack R3 … yes`) carries everything the
        # core needs, so in a group each member may press it (attendance answers): the
        # keyboard stays, the presser sees their choice in a notice. Any other button
        # answers the question of the one person who was asked: the keyboard then shows
        # the choice, so that it cannot be answered twice.
        shared = not is_direct and query.data.startswith("/")
        key = (("pressed", message.chat.id, message.message_id, user.id, query.data) if shared
               else ("pressed", message.chat.id, message.message_id))
        await self._quietly(query.answer(f"✓ {label}"[:200] if shared else None))
        if key in self._recent:
            return   # a second press before the keyboard changed: one answer per question
        self._remember(key)
        if isinstance(message, Message) and not shared:
            await self._quietly(self.bot.edit_message_reply_markup(
                message.chat.id, message.message_id, reply_markup=InlineKeyboardMarkup(
                    [[InlineKeyboardButton(f"✓ {label}", callback_data=CHOSEN)]])))
        await self._hand_over(IncomingMessage(
            chat=ChatRef(self.platform, str(message.chat.id)), sender_id=str(user.id),
            text=query.data, is_direct=is_direct, sender_name=user.full_name,
            sender_username=user.username, language_hint=user.language_code,
            reply_to=str(message.message_id), addressed=not is_direct))

    async def _on_membership(self, change: ChatMemberUpdated) -> None:
        if change.new_chat_member.status in ("kicked", "left"):
            await self._record_unreachable(ChatRef(self.platform, str(change.chat.id)))

    def _remember(self, key: object) -> None:
        self._recent[key] = None
        while len(self._recent) > 10_000:
            self._recent.popitem(last=False)

    # -- sending ----------------------------------------------------------------------------
    async def send(self, chat: ChatRef, reply: Reply, *,
                   idempotency_key: str | None = None) -> SendResult:
        try:
            chat_id = int(chat.chat_id)
        except ValueError:
            return SendResult(False, error="not a Telegram chat id", permanent=True)
        thread_id = int(chat.thread_id) if chat.thread_id else None
        try:
            message_id = await self.sender.send_reply(chat_id, thread_id, reply)
        except Undeliverable as exc:
            if exc.unreachable:
                await self._record_unreachable(chat)
            log.warning("telegram send failed", extra={"fields": {
                "permanent": exc.permanent, "key": idempotency_key}})
            return SendResult(False, error=exc.reason[:300], permanent=exc.permanent,
                              retry_after=exc.retry_after)
        return SendResult(True, message_id=str(message_id))

    async def _quietly(self, call: Awaitable) -> None:
        """Cosmetic requests (answer a press, edit its keyboard) must not block the answer."""
        try:
            await call
        except TelegramError as exc:
            log.info("telegram cosmetic request failed", extra={"fields": {
                "error": type(exc).__name__}})

    async def _record_unreachable(self, chat: ChatRef) -> None:
        if self.on_unreachable is None:
            return
        try:
            await self.on_unreachable(ChatRef(chat.platform, chat.chat_id))
        except Exception:  # noqa: BLE001 - the send result already says it
            log.exception("could not record an unreachable chat")


def _label_of(message: Message, data: str) -> str:
    markup = message.reply_markup
    for row in markup.inline_keyboard if markup else ():
        for button in row:
            if button.callback_data == data:
                return button.text
    return data


def _chat_ref(message: Message) -> ChatRef:
    thread = str(message.message_thread_id) if message.is_topic_message else None
    return ChatRef("telegram", str(message.chat.id), thread)


def _chat_id_of(update: Update) -> int:
    chat = update.effective_chat
    return chat.id if chat is not None else 0
