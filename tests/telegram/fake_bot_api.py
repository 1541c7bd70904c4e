"""A small Bot API server of our own (aiohttp, 127.0.0.1 only) for end-to-end tests of the
Telegram transport through python-telegram-bot's real HTTP stack.

It implements the methods the bot uses, lets a test play the users (text messages, commands
with their `bot_command` entity, button presses, documents), read what the bot sent, and
inject faults (429 with retry_after, 500, dropped connections, a chat that blocked the bot).

Like the real server: requests are `/bot<TOKEN>/<method>` (the token contains `:`), bodies are
form-encoded (multipart for files) with JSON-encoded nested values, `getUpdates` really holds
the request for `timeout` seconds and forgets updates below `offset`, HTML text is checked
(unescaped `<`, `>`, `&` or unknown tags are refused) and texts over 4,096 characters are
refused."""
from __future__ import annotations

import asyncio
import html
import itertools
import json
import random
import re
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

TOKEN = "123456789:AAH-fake_Token-for-tests"
BOT_ID = 123456789
BOT_USERNAME = "coordbot_test_bot"

JSON_FIELDS = {"reply_markup", "commands", "scope", "allowed_updates", "entities",
               "caption_entities", "link_preview_options", "reply_parameters"}
INT_FIELDS = {"chat_id", "message_id", "offset", "limit", "timeout", "message_thread_id"}
ALLOWED_TAGS = ("b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre",
                "tg-spoiler", "blockquote")
_TAG = re.compile(rf"</?(?:{'|'.join(ALLOWED_TAGS)})>|<a href=\"[^\"<>]*\">|</a>")
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")
MAX_TEXT = 4096
MAX_CAPTION = 1024
SENDING_METHODS = {"sendMessage", "sendDocument", "sendPhoto"}


class ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


@dataclass
class Fault:
    """Answer the next `count` calls of `method` (for `chat_id`, if given) with `kind`:
    429, 500 or "drop" (the connection is closed without an answer)."""

    method: str
    kind: int | str
    count: int = 1
    chat_id: int | None = None
    retry_after: int = 1


@dataclass
class Sent:
    """One message the bot sent (or a later edit of it), as a user would see it."""

    method: str
    chat_id: int
    message_id: int
    text: str = ""          # plain text after HTML parsing (caption for files)
    html: str = ""          # what the bot posted
    reply_markup: dict | None = None
    filename: str | None = None
    content: bytes | None = None
    mime_type: str | None = None
    at: float = field(default_factory=time.monotonic)

    @property
    def buttons(self) -> list[tuple[str, str]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]


class FakeBotApi:
    def __init__(self, token: str = TOKEN, username: str = BOT_USERNAME):
        self.token = token
        self.bot_user = {"id": int(token.split(":")[0]), "is_bot": True,
                         "first_name": "Coordbot", "username": username}
        self.updates: list[dict] = []          # not yet confirmed by an offset
        self.delivered_ids: list[int] = []      # every update id handed out by getUpdates
        self.sent: list[Sent] = []
        self.messages: dict[tuple[int, int], Sent] = {}
        self.calls: list[tuple[str, dict]] = []
        self.callback_answers: list[dict] = []
        self.commands: dict[str, list[dict]] = {}
        self.webhook: dict[str, Any] = {}
        self.faults: list[Fault] = []
        self.blocked: set[int] = set()
        self.random_429: tuple[float, int, random.Random] | None = None
        self.faults_served: dict[str, int] = {}
        self._files: dict[str, tuple[bytes, str]] = {}
        self._update_ids = itertools.count(1000)
        self._message_ids: dict[int, itertools.count] = {}
        self._new_update = asyncio.Event()
        self._sent_changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._webhook_task: asyncio.Task | None = None
        self.url = ""

    # -- life cycle ----------------------------------------------------------------------
    async def start(self) -> str:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._api)
        app.router.add_get("/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, shutdown_timeout=1, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001 - port 0 was asked for
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        self._closing = True
        self._new_update.set()
        if self._webhook_task:
            self._webhook_task.cancel()
        if self._runner:
            await self._runner.cleanup()

    # -- the test plays the users ---------------------------------------------------------
    def user(self, user_id: int, lang: str | None = "en", username: str | None = None) -> dict:
        found = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
        if username:
            found["username"] = username
        if lang:
            found["language_code"] = lang
        return found

    def chat(self, chat_id: int, user_id: int) -> dict:
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": f"User{user_id}"}
        return {"id": chat_id, "type": "supergroup", "title": f"Group {chat_id}"}

    def send_text(self, chat_id: int, text: str, *, user_id: int | None = None,
                  lang: str | None = "en", username: str | None = None,
                  reply_to: Sent | None = None) -> dict:
        """A user writes `text` in `chat_id` (a positive id is a private chat, negative a
        group). A leading /command gets its `bot_command` entity, as Telegram does."""
        user_id = user_id or chat_id
        message = self._user_message(chat_id, user_id, lang, username)
        message["text"] = text
        command = re.match(r"/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?", text)
        if command:
            message["entities"] = [{"type": "bot_command", "offset": 0,
                                    "length": len(command.group(0))}]
        if reply_to is not None:
            message["reply_to_message"] = self._as_message(reply_to)
        return self._push({"message": message})

    def send_document(self, chat_id: int, content: bytes, filename: str, *,
                      mime_type: str = "text/csv", caption: str | None = None,
                      user_id: int | None = None, lang: str | None = "en") -> dict:
        user_id = user_id or chat_id
        file_id = f"doc{len(self._files) + 1}"
        self._files[file_id] = (content, f"documents/{file_id}_{filename}")
        message = self._user_message(chat_id, user_id, lang, None)
        message["document"] = {"file_id": file_id, "file_unique_id": f"u{file_id}",
                               "file_name": filename, "mime_type": mime_type,
                               "file_size": len(content)}
        if caption:
            message["caption"] = caption
        return self._push({"message": message})

    def press(self, sent: Sent, callback_data: str, *, user_id: int | None = None,
              lang: str | None = "en") -> dict:
        """A user presses the button carrying `callback_data` under message `sent`."""
        user_id = user_id or sent.chat_id
        current = self.messages[(sent.chat_id, sent.message_id)]
        query = {"id": str(next(self._update_ids)), "from": self.user(user_id, lang),
                 "chat_instance": f"ci{sent.chat_id}", "data": callback_data,
                 "message": self._as_message(current)}
        return self._push({"callback_query": query})

    def block_bot(self, chat_id: int) -> dict:
        """The user blocks the bot: sends to the chat now fail, and the bot is told."""
        self.blocked.add(chat_id)
        member = {"user": self.bot_user, "status": "member"}
        return self._push({"my_chat_member": {
            "chat": self.chat(chat_id, chat_id), "from": self.user(chat_id),
            "date": int(time.time()),
            "old_chat_member": member, "new_chat_member": dict(member, status="kicked",
                                                               until_date=0)}})

    def _user_message(self, chat_id: int, user_id: int, lang, username) -> dict:
        return {"message_id": self._next_message_id(chat_id), "date": int(time.time()),
                "chat": self.chat(chat_id, user_id), "from": self.user(user_id, lang, username)}

    def _push(self, update: dict) -> dict:
        update["update_id"] = next(self._update_ids)
        self.updates.append(update)
        self._new_update.set()
        return update

    def redeliver_unconfirmed(self, updates: list[dict]) -> None:
        """Puts confirmed updates back, as if the server never received the acknowledgement
        (the bot crashed after handling them but before its next getUpdates)."""
        known = {u["update_id"] for u in self.updates}
        self.updates = sorted(self.updates + [u for u in updates if u["update_id"] not in known],
                              key=lambda u: u["update_id"])
        self._new_update.set()

    # -- what the bot did ----------------------------------------------------------------
    def sent_to(self, chat_id: int) -> list[Sent]:
        return [s for s in self.sent if s.chat_id == chat_id]

    def texts_to(self, chat_id: int) -> list[str]:
        return [s.text for s in self.sent_to(chat_id)]

    def calls_of(self, method: str) -> list[dict]:
        return [params for name, params in self.calls if name == method]

    async def wait_for(self, predicate, within: float = 10.0) -> None:
        """Waits until `predicate()` holds (checked after every send); fails after `within`
        seconds."""
        deadline = time.monotonic() + within
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("the bot did not do what was expected in time; sent: "
                                     + repr([(s.chat_id, s.text[:60]) for s in self.sent[-10:]]))
            self._sent_changed.clear()
            try:
                await asyncio.wait_for(self._sent_changed.wait(), min(remaining, 0.2))
            except TimeoutError:
                pass

    async def wait_until_handled(self, within: float = 10.0) -> None:
        """Waits until the bot confirmed every injected update (it does so only after
        handling them and sending its answers)."""
        await self.wait_for(lambda: not self.updates, within)

    async def wait_for_sent(self, chat_id: int, count: int = 1,
                            within: float = 10.0) -> list[Sent]:
        await self.wait_for(lambda: len(self.sent_to(chat_id)) >= count, within)
        return self.sent_to(chat_id)

    # -- faults ----------------------------------------------------------------------------
    def fail(self, method: str, kind: int | str, *, count: int = 1, chat_id: int | None = None,
             retry_after: int = 1) -> None:
        self.faults.append(Fault(method, kind, count, chat_id, retry_after))

    def block(self, chat_id: int) -> None:
        self.blocked.add(chat_id)

    def random_flood(self, fraction: float, retry_after: int = 1, seed: int = 6) -> None:
        """Answers 429 to `fraction` of sendMessage calls, at random."""
        self.random_429 = (fraction, retry_after, random.Random(seed))

    def _fault_for(self, method: str, params: dict) -> Fault | None:
        for fault in self.faults:
            if fault.count > 0 and fault.method == method and (
                    fault.chat_id is None or fault.chat_id == params.get("chat_id")):
                fault.count -= 1
                return fault
        if self.random_429 and method == "sendMessage":
            fraction, retry_after, rng = self.random_429
            if rng.random() < fraction:
                return Fault(method, 429, retry_after=retry_after)
        return None

    # -- HTTP ------------------------------------------------------------------------------
    async def _api(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401,
                                      "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params = await self._params(request)
        self.calls.append((method, {k: v for k, v in params.items() if k != "_files"}))
        fault = self._fault_for(method, params)
        if fault is not None:
            self.faults_served[str(fault.kind)] = self.faults_served.get(str(fault.kind), 0) + 1
            if fault.kind == "drop":
                request.transport.close()
                return web.Response()
            if fault.kind == 429:
                return _error(ApiError(429, f"Too Many Requests: retry after {fault.retry_after}",
                                       {"retry_after": fault.retry_after}))
            return _error(ApiError(int(fault.kind), "Internal Server Error"))
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(ApiError(404, "Not Found: method not found"))
        try:
            result = await handler(params)
        except ApiError as exc:
            return _error(exc)
        return web.json_response({"ok": True, "result": result})

    async def _params(self, request: web.Request) -> dict:
        if request.content_type == "application/json":
            raw = await request.json()
            return {k: v for k, v in raw.items()}
        form = await request.post()
        params: dict[str, Any] = {"_files": {}}
        for key, value in form.items():
            if hasattr(value, "file"):
                params["_files"][key] = (value.filename, value.file.read(), value.content_type)
                params[key] = f"attach://{key}"
            elif key in JSON_FIELDS:
                params[key] = json.loads(value)
            elif key in INT_FIELDS:
                params[key] = int(value)
            else:
                params[key] = value
        params.update({k: (int(v) if k in INT_FIELDS else v) for k, v in request.query.items()
                       if k not in params})
        return params

    async def _download(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            raise web.HTTPUnauthorized()
        path = request.match_info["path"]
        for content, file_path in self._files.values():
            if file_path == path:
                return web.Response(body=content)
        raise web.HTTPNotFound()

    # -- methods -----------------------------------------------------------------------------
    async def _m_getMe(self, params: dict) -> dict:
        return dict(self.bot_user, can_join_groups=True, can_read_all_group_messages=False,
                    supports_inline_queries=False)

    async def _m_getUpdates(self, params: dict) -> list[dict]:
        if self.webhook.get("url"):
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = params.get("offset")
        if offset:
            confirmed = len(self.updates)
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
            if len(self.updates) < confirmed:
                self._sent_changed.set()   # wakes `wait_for(lambda: not fake.updates)`
        limit = params.get("limit") or 100
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        while not self.updates and not self._closing:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), remaining)
            except TimeoutError:
                break
        batch = self.updates[:limit]
        self.delivered_ids += [u["update_id"] for u in batch]
        return batch

    async def _m_deleteWebhook(self, params: dict) -> bool:
        self.webhook = {}
        if str(params.get("drop_pending_updates")).lower() == "true":
            self.updates.clear()
        return True

    async def _m_setWebhook(self, params: dict) -> bool:
        self.webhook = {"url": params["url"], "secret_token": params.get("secret_token"),
                        "allowed_updates": params.get("allowed_updates")}
        if self._webhook_task is None:
            self._webhook_task = asyncio.create_task(self._push_webhook())
        return True

    async def _m_getWebhookInfo(self, params: dict) -> dict:
        return {"url": self.webhook.get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self.updates)}

    async def _m_setMyCommands(self, params: dict) -> bool:
        for command in params["commands"]:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command["command"]) or not (
                    1 <= len(command["description"]) <= 256):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        self.commands[params.get("language_code") or ""] = params["commands"]
        return True

    async def _m_sendMessage(self, params: dict) -> dict:
        chat_id = self._reachable(params)
        text = _parsed(params.get("text", ""), params.get("parse_mode"), MAX_TEXT)
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        return self._record("sendMessage", chat_id, text, params)

    async def _m_sendDocument(self, params: dict) -> dict:
        return self._send_file("sendDocument", "document", params)

    async def _m_sendPhoto(self, params: dict) -> dict:
        return self._send_file("sendPhoto", "photo", params)

    def _send_file(self, method: str, field_name: str, params: dict) -> dict:
        chat_id = self._reachable(params)
        caption = _parsed(params.get("caption", ""), params.get("parse_mode"), MAX_CAPTION)
        reference = str(params.get(field_name, ""))
        name = reference.removeprefix("attach://")
        if name not in params.get("_files", {}):
            raise ApiError(400, f"Bad Request: there is no {field_name} in the request")
        filename, content, mime_type = params["_files"][name]
        sent = self._record(method, chat_id, caption, params, filename=filename, content=content,
                            mime_type=mime_type)
        return sent

    async def _m_editMessageText(self, params: dict) -> dict:
        sent = self._message(params)
        sent.html = params["text"]
        sent.text = _parsed(params["text"], params.get("parse_mode"), MAX_TEXT)
        sent.reply_markup = params.get("reply_markup")
        self._sent_changed.set()
        return self._as_message(sent)

    async def _m_editMessageReplyMarkup(self, params: dict) -> dict:
        sent = self._message(params)
        sent.reply_markup = params.get("reply_markup")
        self._sent_changed.set()
        return self._as_message(sent)

    async def _m_answerCallbackQuery(self, params: dict) -> bool:
        self.callback_answers.append(params)
        self._sent_changed.set()
        return True

    async def _m_getFile(self, params: dict) -> dict:
        file_id = params["file_id"]
        if file_id not in self._files:
            raise ApiError(400, "Bad Request: invalid file_id")
        content, path = self._files[file_id]
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(content),
                "file_path": path}

    # -- helpers ---------------------------------------------------------------------------
    def _reachable(self, params: dict) -> int:
        chat_id = params["chat_id"]
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    def _message(self, params: dict) -> Sent:
        key = (params["chat_id"], params["message_id"])
        if key not in self.messages:
            raise ApiError(400, "Bad Request: message to edit not found")
        return self.messages[key]

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def _record(self, method: str, chat_id: int, text: str, params: dict, **extra) -> dict:
        sent = Sent(method, chat_id, self._next_message_id(chat_id), text=text,
                    html=params.get("text") or params.get("caption") or "",
                    reply_markup=params.get("reply_markup"), **extra)
        self.sent.append(sent)
        self.messages[(chat_id, sent.message_id)] = sent
        self._sent_changed.set()
        return self._as_message(sent)

    def _as_message(self, sent: Sent) -> dict:
        message = {"message_id": sent.message_id, "date": int(time.time()),
                   "chat": self.chat(sent.chat_id, sent.chat_id), "from": self.bot_user}
        if sent.method == "sendMessage":
            message["text"] = sent.text
        if sent.reply_markup:
            message["reply_markup"] = sent.reply_markup
        return message

    async def _push_webhook(self) -> None:
        """Posts pending updates to the webhook until it answers 200, like Telegram."""
        async with ClientSession(timeout=ClientTimeout(total=10)) as http:
            for _ in range(100_000):
                if not self.webhook.get("url") or not self.updates:
                    self._new_update.clear()
                    await self._new_update.wait()
                    continue
                update = self.updates[0]
                headers = {}
                if self.webhook.get("secret_token"):
                    headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook["secret_token"]
                try:
                    async with http.post(self.webhook["url"], json=update, headers=headers) as r:
                        ok = r.status == 200
                except Exception:  # noqa: BLE001 - the bot may be down; retry like Telegram
                    ok = False
                if ok:
                    self.delivered_ids.append(update["update_id"])
                    self.updates.remove(update)
                else:
                    await asyncio.sleep(0.1)


def _parsed(text: str, parse_mode: str | None, limit: int) -> str:
    """The text a user sees; refuses what Telegram refuses."""
    if parse_mode and parse_mode.upper() == "HTML":
        stripped = _TAG.sub("", text)
        if re.search(r"[<>]", stripped) or re.search(r"&", _ENTITY.sub("", stripped)):
            raise ApiError(400, "Bad Request: can't parse entities: unsupported start tag or "
                                "unescaped character")
        _check_nesting(text)
        text = html.unescape(stripped)
    if len(text.encode("utf-16-le")) // 2 > limit:
        raise ApiError(400, "Bad Request: message is too long")
    return text


def _check_nesting(text: str) -> None:
    stack: list[str] = []
    for match in re.finditer(r"<(/?)([a-z-]+)[^>]*>", text):
        closing, tag = match.groups()
        if not closing:
            stack.append(tag)
        elif not stack or stack.pop() != tag:
            raise ApiError(400, "Bad Request: can't parse entities: unmatched end tag")
    if stack:
        raise ApiError(400, "Bad Request: can't parse entities: unclosed start tag")


def _error(exc: ApiError) -> web.Response:
    body = {"ok": False, "error_code": exc.code, "description": exc.description}
    if exc.parameters:
        body["parameters"] = exc.parameters
    return web.json_response(body, status=exc.code)
