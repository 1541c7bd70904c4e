"""The Matrix transport (matrix-nio with end-to-end encryption): a thin translator between Matrix
rooms and the neutral model of `bot.messages`.

Delivery guarantee: the sync token is saved only after every event of a sync batch was handled,
together with the ids of the events already answered, so a restart resumes exactly where the
bot stopped (nothing lost, nothing answered twice). Every send carries a transaction id derived
from the outbox row's idempotency key or from the event being answered, so a resend after a
crash is deduplicated by the homeserver.
"""
from __future__ import annotations

import asyncio
import contextlib
import contextvars
import copy
import hashlib
import io
import json
import logging
import os
import random
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from bot.config import Settings
from bot.db import Database
from bot.i18n import Catalogues, _
from bot.logs import hide
from bot.markup import to_html, to_plain
from bot.messages import Attachment, ChatRef, IncomingMessage, Reply
from bot.transports.base import Receiver, SendResult
from bot.transports.matrix_direct import DirectChats, membership_changed_rooms

if TYPE_CHECKING:
    from bot.devices import DeviceVerifications

log = logging.getLogger("coordbot.matrix")

MAX_BACKOFF = 60.0
FIRST_BACKOFF = 1.0
MAX_DOWNLOAD = 20 * 1024 * 1024
SEND_ATTEMPTS = 4
KEYCAPS = ["1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣", "🔟"]
# Yes/no style answers by reaction; the core reads "1" as yes and "2" as no.
YES_REACTIONS = {"✅", "👍", "✔️", "☑️"}
NO_REACTIONS = {"❌", "👎", "✖️"}
# A generous timeline per room so that messages sent while the bot was down all arrive.
SYNC_FILTER = {"room": {"timeline": {"limit": 100}, "state": {"lazy_load_members": False}},
               "presence": {"not_types": ["*"]}}
UNREADABLE_AFTER = 600.0   # then the person is asked to send the message again
KEY_REQUEST_EVERY = 60.0   # re-request a missing room key this often meanwhile
KEY_CHECK_EVERY = 5.0      # look at waiting events at least this often
MAX_UNDECRYPTED = 500
KEY_ATTEMPTS = 5        # about 4 s in all before a direct message waits for the outbox
KEY_RETRY_FIRST = 0.25
OPENING_WAIT = 15.0
MAX_GAP_PAGES = 10  # beyond 100 + 1000 missed events per room, the oldest are dropped
_REPLY_FALLBACK = re.compile(r"^(> .*\n)+\n", re.M)

# The event being answered, so that `send` can derive stable transaction ids for its replies.
_answering: contextvars.ContextVar["_Answering | None"] = contextvars.ContextVar(
    "coordbot_matrix_answering", default=None)


@dataclass
class _Answering:
    event_id: str
    sent: int = 0


class MatrixSetupError(RuntimeError):
    """The Matrix account cannot be used (wrong password, revoked token); told in one line."""


# --------------------------------------------------------------------------------------------
# Persistent state: sync token, handled events, direct rooms, choice messages.

_write_lock = threading.Lock()


def atomic_write(path: Path, data: str, *, private: bool = False) -> None:
    """Write-then-rename, so a crash leaves the old file or the new one, never half of it."""
    with _write_lock:
        _atomic_write(path, data, private)


def _atomic_write(path: Path, data: str, private: bool) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _bounded(mapping: OrderedDict, limit: int) -> None:
    while len(mapping) > limit:
        mapping.popitem(last=False)


@dataclass
class MatrixState:
    """What must survive a restart besides nio's own store (device, keys)."""

    path: Path
    next_batch: str | None = None
    handled: OrderedDict = field(default_factory=OrderedDict)
    direct_rooms: set[str] = field(default_factory=set)
    # event id of a message the bot sent with choices → [[label, value], ...]
    choices: OrderedDict = field(default_factory=OrderedDict)
    # room → event id of the bot's latest message with choices
    open_choice: dict[str, str] = field(default_factory=dict)
    sent_events: OrderedDict = field(default_factory=OrderedDict)
    # event id → {"room", "source", "first_seen", "requested"}: messages waiting for their
    # room key, kept across restarts (see `MatrixTransport._retry_undecrypted`).
    undecrypted: OrderedDict = field(default_factory=OrderedDict)

    MAX_HANDLED = 5000
    MAX_CHOICES = 1000
    MAX_SENT = 2000

    @classmethod
    def load(cls, path: Path) -> "MatrixState":
        state = cls(path)
        if not path.exists():
            return state
        raw = json.loads(path.read_text(encoding="utf-8"))
        state.next_batch = raw.get("next_batch")
        state.handled = OrderedDict((e, True) for e in raw.get("handled", []))
        state.direct_rooms = set(raw.get("direct_rooms", []))
        state.choices = OrderedDict(raw.get("choices", []))
        state.open_choice = dict(raw.get("open_choice", {}))
        state.sent_events = OrderedDict((e, True) for e in raw.get("sent_events", []))
        state.undecrypted = OrderedDict(raw.get("undecrypted", []))
        return state

    def dump(self) -> str:
        return json.dumps({
            "next_batch": self.next_batch, "handled": list(self.handled),
            "direct_rooms": sorted(self.direct_rooms), "choices": list(self.choices.items()),
            "open_choice": self.open_choice, "sent_events": list(self.sent_events),
            "undecrypted": list(self.undecrypted.items())})

    def save(self) -> None:
        atomic_write(self.path, self.dump())

    async def save_async(self) -> None:
        # Snapshot in the event loop, write in a thread (fsync may take milliseconds).
        data = self.dump()
        await asyncio.to_thread(atomic_write, self.path, data)

    def mark_handled(self, event_id: str) -> None:
        self.handled[event_id] = True
        _bounded(self.handled, self.MAX_HANDLED)

    def remember_sent(self, room_id: str, event_id: str, choices: list[list[str]]) -> None:
        self.sent_events[event_id] = True
        _bounded(self.sent_events, self.MAX_SENT)
        if choices:
            self.choices[event_id] = choices
            _bounded(self.choices, self.MAX_CHOICES)
            self.open_choice[room_id] = event_id


# --------------------------------------------------------------------------------------------
# Pure helpers (unit-tested without a homeserver).

def backoff_delay(failures: int, *, first: float = FIRST_BACKOFF, cap: float = MAX_BACKOFF,
                  rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: about first·2^(n-1), between half and all of it,
    never above `cap`."""
    ceiling = min(cap, first * 2 ** max(0, min(failures, 30) - 1))
    return (rng or random).uniform(ceiling / 2, ceiling)


def transaction_id(*parts: str) -> str:
    """A stable transaction id: the same parts give the same id, so the homeserver drops a
    resend of the same message."""
    return "cb" + hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:40]


def render_notice(reply: Reply) -> dict[str, Any]:
    """An m.notice with a plain `body` and an HTML `formatted_body`; choices as numbered
    options that the user answers with the number, the text or a reaction."""
    plain = to_plain(reply.text)
    html = to_html(reply.text).replace("\n", "<br>")
    if reply.choices:
        plain += "\n" + "\n".join(f"{n}. {to_plain(c.label)}"
                                  for n, c in enumerate(reply.choices, 1))
        html += "<ol>" + "".join(f"<li>{to_html(c.label)}</li>" for c in reply.choices) + "</ol>"
    return {"msgtype": "m.notice", "body": plain, "format": "org.matrix.custom.html",
            "formatted_body": html}


def choice_for_reaction(key: str, choices: list[list[str]]) -> str | None:
    """The value of the choice a reaction picks: a keycap digit, or ✅/❌ for the first and
    second option."""
    key = key.strip()
    if key in KEYCAPS:
        index = KEYCAPS.index(key)
    elif key in YES_REACTIONS:
        index = 0
    elif key in NO_REACTIONS and len(choices) == 2:
        index = 1
    else:
        return None
    return choices[index][1] if index < len(choices) else None


def is_allowed(user_id: str, allowed: list[str]) -> bool:
    """`allowed` holds user ids (`@a:server`) and servers (`:server`); empty allows everyone."""
    if not allowed:
        return True
    server = ":" + user_id.partition(":")[2]
    return any(entry == user_id or entry == server for entry in allowed)


def strip_reply_fallback(body: str) -> str:
    return _REPLY_FALLBACK.sub("", body, count=1) if body.startswith("> ") else body


def strip_mention(body: str, names: list[str]) -> tuple[str, bool]:
    """Removes a leading "name:" / "name," / "@bot:server" and tells whether the bot was
    mentioned anywhere in the text (as a whole word)."""
    mentioned = False
    for name in sorted((n for n in names if len(n) > 2), key=len, reverse=True):
        pattern = re.compile(rf"(?<![\w@]){re.escape(name)}(?![\w])", re.I)
        leading = pattern.match(body)
        if leading:
            return body[leading.end():].lstrip(":, \t\n"), True
        mentioned = mentioned or bool(pattern.search(body))
    return body, mentioned


# --------------------------------------------------------------------------------------------

class MatrixTransport:
    platform = "matrix"

    def __init__(self, settings: Settings, *, sync_timeout_ms: int = 30_000,
                 request_timeout: float = 60.0, db: Database | None = None,
                 verifications: DeviceVerifications | None = None):
        from nio import AsyncClient, AsyncClientConfig

        self.settings = settings
        self.store_path = Path(settings.matrix_store_path or settings.data_dir / "matrix")
        self.store_path.mkdir(parents=True, exist_ok=True)
        self.state = MatrixState.load(self.store_path / "coordbot-state.json")
        self.credentials_path = self.store_path / "credentials.json"
        self.sync_timeout_ms = sync_timeout_ms
        self.sync_filter = SYNC_FILTER
        config = AsyncClientConfig(
            # The sync position lives in coordbot-state.json: nio's own copy would cost a
            # SQLite write (an fsync) before every message is handled (benchmarks/
            # matrix_reply_profile.py: 19-32 ms of a reply under load).
            encryption_enabled=True, store_sync_tokens=False,
            # Our own loop does the retrying, with backoff and jitter, and honours
            # M_LIMIT_EXCEEDED: nio must hand every failure back at once.
            max_timeouts=0, max_limit_exceeded=0, request_timeout=request_timeout)
        self.client = AsyncClient(settings.matrix_homeserver.rstrip("/"),
                                  settings.matrix_user_id, store_path=str(self.store_path),
                                  config=config)
        self.user_id = settings.matrix_user_id
        self.trust_on_first_use = settings.matrix_trust != "verified_only"
        self._receive: Receiver | None = None
        self._task: asyncio.Task | None = None
        self._stopping = False
        self._ready = asyncio.Event()
        self._logged_in = False
        self.sync_failures = 0
        self.unreadable_after = UNREADABLE_AFTER
        self._last_key_check = 0.0
        self._catalogues = None
        # The application's database (direct chats are recorded on people's identities); a
        # transport built from settings alone opens its own connection pool.
        self._own_db = db is None
        self.db = db or Database(settings.effective_database_url)
        self.direct = DirectChats(self)
        # Encrypted rooms whose members' devices all hold the current group session.
        self._keys_ready: set[str] = set()
        # Held while messages are handled: the direct-chat pass writes people's identities
        # only in between, so that it never races the core creating the same person.
        self.handling = asyncio.Lock()
        # Emoji verification started by people (answered only when approvals are wired).
        from bot.transports.matrix_verification import DeviceVerifier
        self.verification = DeviceVerifier(self.client, verifications)

    @property
    def stopping(self) -> bool:
        return self._stopping

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self, receive: Receiver) -> None:
        """Logs in (or restores the stored device) and starts the sync loop in the background;
        returns at once. A wrong password fails here; an unreachable homeserver is retried."""
        self._receive = receive
        try:
            await self._login()
        except MatrixSetupError:
            await self.client.close()
            raise
        except Exception as exc:  # noqa: BLE001 - homeserver down at start: retried in the loop
            log.warning("matrix login deferred", extra={"fields": {"error": type(exc).__name__}})
        self._task = asyncio.create_task(self._run(), name="matrix-sync")

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
        await self.direct.stop()
        await self.verification.stop()
        await self.state.save_async()
        await self.client.close()
        if self._own_db:
            await self.db.dispose()

    async def wait_ready(self, timeout: float = 30.0) -> bool:
        """True once the first sync arrived (rooms known)."""
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    async def _login(self) -> None:
        from nio import LoginError, WhoamiResponse

        if self._logged_in:
            return
        stored = self._load_credentials()
        token = self.settings.matrix_access_token
        if token:
            device_id = stored.get("device_id") if stored.get("access_token") == token else None
            if not device_id:
                self.client.access_token = token
                whoami = await self.client.whoami()
                if not isinstance(whoami, WhoamiResponse) or not whoami.device_id:
                    raise MatrixSetupError(f"the Matrix access token was refused: "
                                           f"{getattr(whoami, 'message', whoami)}")
                device_id = whoami.device_id
            self.client.restore_login(self.user_id, device_id, token)
            self._save_credentials(device_id, token)
        elif stored.get("access_token") and stored.get("user_id") == self.user_id:
            self.client.restore_login(self.user_id, stored["device_id"], stored["access_token"])
        else:
            if not self.settings.matrix_password:
                raise MatrixSetupError("set COORDBOT_MATRIX_PASSWORD or "
                                       "COORDBOT_MATRIX_ACCESS_TOKEN")
            if stored.get("device_id"):
                self.client.device_id = stored["device_id"]  # keep the same device and keys
            response = await self.client.login(self.settings.matrix_password,
                                               device_name="coordbot")
            if isinstance(response, LoginError):
                raise MatrixSetupError(f"Matrix login failed for {self.user_id}: "
                                       f"{response.message}")
            self._save_credentials(response.device_id, response.access_token)
        self._logged_in = True
        hide(self.client.access_token, self.settings.matrix_password)
        log.info("matrix logged in", extra={"fields": {"device_id": self.client.device_id}})
        if self.client.should_upload_keys:
            await self.client.keys_upload()

    def _load_credentials(self) -> dict:
        try:
            return json.loads(self.credentials_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def _save_credentials(self, device_id: str, access_token: str) -> None:
        atomic_write(self.credentials_path, json.dumps({
            "homeserver": self.settings.matrix_homeserver, "user_id": self.user_id,
            "device_id": device_id, "access_token": access_token}), private=True)

    # ---- the sync loop ---------------------------------------------------------------------

    async def _run(self) -> None:
        first = True
        while not self._stopping:
            try:
                if not self._logged_in:
                    await self._login()
                outcome = await self._sync_once(first)
            except asyncio.CancelledError:
                raise
            except MatrixSetupError as exc:
                log.error("matrix account unusable", extra={"fields": {"error": str(exc)}})
                outcome = None
            except Exception as exc:  # noqa: BLE001 - network errors, homeserver down
                log.debug("matrix sync failed", exc_info=exc)
                outcome = None
            if outcome is True:
                first = False
                self.sync_failures = 0
                continue
            await asyncio.sleep(self._delay_after(outcome))

    def _delay_after(self, outcome) -> float:
        retry_after = getattr(outcome, "retry_after_ms", None)
        if getattr(outcome, "status_code", None) == "M_LIMIT_EXCEEDED" and retry_after:
            return retry_after / 1000 + random.uniform(0, 0.25)
        self.sync_failures += 1
        delay = backoff_delay(self.sync_failures)
        log.warning("matrix homeserver unavailable, retrying", extra={"fields": {
            "failures": self.sync_failures, "delay_s": round(delay, 1)}})
        return delay

    async def _sync_once(self, first: bool):
        """One sync and the handling of everything in it. Returns True, or the error response
        that decides the wait before the next attempt."""
        from nio import SyncResponse

        resuming = self.state.next_batch is not None
        response = await self.client.sync(
            timeout=0 if first else self.sync_timeout_ms, sync_filter=self.sync_filter,
            since=self.state.next_batch,
            # After a restart nio knows no room state: ask for all of it (members, encryption).
            full_state=True if first else None)
        if not isinstance(response, SyncResponse):
            if getattr(response, "status_code", None) == "M_UNKNOWN_TOKEN":
                await self._forget_login()
            return response
        self._ready.set()  # rooms and their members are known from here on
        await self._encryption_housekeeping()
        await self._handle_invites(response)
        async with self.handling:
            # The very first sync of a fresh bot holds history only: nothing in it is for us.
            await self._handle_timelines(response, answer=resuming or not first,
                                         since=self.state.next_batch)
            await self._retry_undecrypted(keys_arrived=first or bool(response.to_device_events))
        await self._leave_empty_rooms(response)
        changed = membership_changed_rooms(response)
        self._keys_ready -= changed
        self.direct.on_sync(response, changed)
        self.state.next_batch = response.next_batch
        await self.state.save_async()
        await self._encryption_housekeeping()
        return True

    async def _forget_login(self) -> None:
        if not self.settings.matrix_password or self.settings.matrix_access_token:
            raise MatrixSetupError("the Matrix access token is no longer valid")
        stored = self._load_credentials()
        stored.pop("access_token", None)
        atomic_write(self.credentials_path, json.dumps(stored), private=True)
        self.client.access_token = ""
        self._logged_in = False

    async def _encryption_housekeeping(self) -> None:
        client = self.client
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())
        await client.send_to_device_messages()

    # ---- rooms -----------------------------------------------------------------------------

    async def _handle_invites(self, response) -> None:
        from nio import InviteMemberEvent

        for room_id, info in response.rooms.invite.items():
            invite = next((e for e in info.invite_state if isinstance(e, InviteMemberEvent)
                           and e.state_key == self.user_id and e.membership == "invite"), None)
            inviter = invite.sender if invite else ""
            if not is_allowed(inviter, self.settings.matrix_allowed):
                log.info("matrix invite refused", extra={"fields": {"room": room_id}})
                await self.client.room_leave(room_id)
                continue
            if invite is not None and invite.content.get("is_direct"):
                self.state.direct_rooms.add(room_id)
            await self.client.join(room_id)
            log.info("matrix room joined", extra={"fields": {"room": room_id}})

    async def _leave_empty_rooms(self, response) -> None:
        for room_id, info in response.rooms.join.items():
            room = self.client.rooms.get(room_id)
            # Only after someone left or declined: a room the bot is creating is also "empty"
            # for a moment, before its invitation is written.
            if room is not None and room.joined_count <= 1 and room.invited_count == 0 \
                    and self._someone_left(info) and await self.direct.person_left(room_id):
                log.info("matrix empty room left", extra={"fields": {"room": room_id}})
                await self.direct.person_gone(room_id)
                await self.client.room_leave(room_id)
                await self.client.room_forget(room_id)  # nio keeps left rooms otherwise
                self.state.direct_rooms.discard(room_id)
                self.state.open_choice.pop(room_id, None)

    def _someone_left(self, info) -> bool:
        from nio import RoomMemberEvent

        return any(isinstance(e, RoomMemberEvent) and e.state_key != self.user_id
                   and e.membership in {"leave", "ban"}
                   for e in [*info.state, *info.timeline.events])

    def is_direct(self, room) -> bool:
        # Flagged direct by its inviter or not, a room with a third person is a group: the
        # bot answers there only when addressed, and writes to each person privately elsewhere
        # (otherwise a direct chat someone else joined would keep receiving private messages).
        return room.member_count <= 2

    # ---- incoming events -------------------------------------------------------------------

    async def _handle_timelines(self, response, *, answer: bool, since: str | None) -> None:
        work = []
        for room_id, info in response.rooms.join.items():
            events = info.timeline.events
            if answer and info.timeline.limited and since:
                events = await self._missed_events(room_id, info.timeline.prev_batch,
                                                   since) + events
            events = self._after_own_join(events)
            if not answer:
                for event in events:
                    self.state.mark_handled(event.event_id)
                continue
            work.append(self._handle_room_events(room_id, events))
        # Rooms are independent: answer them concurrently, each in order.
        await asyncio.gather(*work)

    async def _missed_events(self, room_id: str, start: str, since: str) -> list:
        """A limited timeline (many messages while the bot was away): fetch the gap between
        the stored position and the batch, oldest first, a bounded number of pages."""
        from nio import MessageDirection, RoomMessagesResponse

        pages: list = []
        for _ in range(MAX_GAP_PAGES):
            response = await self.client.room_messages(room_id, start=start, end=since,
                                                       direction=MessageDirection.back,
                                                       limit=100)
            if not isinstance(response, RoomMessagesResponse) or not response.chunk:
                break
            pages.extend(response.chunk)
            if not response.end or response.end == start:
                break
            start = response.end
        log.info("matrix gap filled", extra={"fields": {"room": room_id, "events": len(pages)}})
        return list(reversed(pages))

    def _after_own_join(self, events: list) -> list:
        """Events before the bot's own join in this batch happened before it was there."""
        from nio import RoomMemberEvent

        start = 0
        for index, event in enumerate(events):
            if isinstance(event, RoomMemberEvent) and event.state_key == self.user_id \
                    and event.membership == "join" and event.prev_membership != "join":
                start = index + 1
        return events[start:]

    async def _handle_room_events(self, room_id: str, events: list, *,
                                  retry: bool = False) -> None:
        for event in events:
            event_id = getattr(event, "event_id", None)
            if not event_id or event.sender == self.user_id or (
                    event_id in self.state.handled and not retry):
                continue
            try:
                message = await self._translate(room_id, event)
                if message is not None:
                    await self._deliver(message, event_id)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - one bad event must not stop the others
                log.exception("matrix event not handled", extra={"fields": {"room": room_id}})
            self.state.mark_handled(event_id)

    async def _deliver(self, message: IncomingMessage, event_id: str) -> None:
        token = _answering.set(_Answering(event_id))
        try:
            await self._receive(message)
        finally:
            _answering.reset(token)

    async def _translate(self, room_id: str, event) -> IncomingMessage | None:
        from nio import (MegolmEvent, ReactionEvent, RoomEncryptedMedia, RoomMessageMedia,
                         RoomMessageText)

        room = self.client.rooms.get(room_id)
        if room is None:
            return None
        if isinstance(event, MegolmEvent):
            await self._await_room_key(room_id, event)
            return None
        if getattr(event, "decrypted", False) and not self.trust_on_first_use \
                and not getattr(event, "verified", False):
            log.info("matrix message from unverified device ignored",
                     extra={"fields": {"room": room_id}})
            return None
        direct = self.is_direct(room)
        if isinstance(event, ReactionEvent):
            return self._from_reaction(room, event, direct)
        if isinstance(event, RoomMessageText):
            return self._from_text(room, event, direct)
        if isinstance(event, (RoomMessageMedia, RoomEncryptedMedia)):
            return await self._from_media(room, event, direct)
        return None

    async def _await_room_key(self, room_id: str, event) -> None:
        """The room key sometimes arrives after the message (or only on request): the event is
        kept in the state file, so that a restart does not lose it, and its key is requested
        from the sender's device and from the bot's other devices."""
        if event.event_id in self.state.undecrypted:
            return
        self.state.undecrypted[event.event_id] = {
            "room": room_id, "source": event.source, "first_seen": time.time(), "requested": 0}
        _bounded(self.state.undecrypted, MAX_UNDECRYPTED)
        await self._request_key(event, first=True)

    async def _request_key(self, event, *, first: bool) -> None:
        waiting = self.state.undecrypted.get(event.event_id)
        if waiting is not None:
            waiting["requested"] = time.time()
        if first:
            # nio's own request (to the bot's other devices) also registers it, so that a
            # forwarded key answering it is accepted.
            with contextlib.suppress(Exception):
                await self.client.request_room_key(event)
        if event.sender and event.device_id and event.session_id:
            message = event.as_key_request(event.sender, self.client.device_id,
                                           device_id=event.device_id)
            with contextlib.suppress(Exception):  # offline: asked again later
                await self.client.to_device(message)

    async def _retry_undecrypted(self, *, keys_arrived: bool = True) -> None:
        """After a sync that brought to-device messages (room keys come that way), and every
        few seconds otherwise: what can now be decrypted is handled, in arrival order; keys
        still missing are asked again; a direct message still unreadable after
        `unreadable_after` seconds gets one "please send it again" and is dropped. Skipped on
        the other syncs, so that a backlog of unreadable events does not slow every reply."""
        from nio import MegolmEvent

        now = time.time()
        if not self.state.undecrypted or (
                not keys_arrived and now - self._last_key_check < KEY_CHECK_EVERY):
            return
        self._last_key_check = now
        for event_id, waiting in list(self.state.undecrypted.items()):
            event = self._stored_event(waiting)
            decrypted = event
            if event is not None:
                with contextlib.suppress(Exception):  # still no key
                    decrypted = self.client.decrypt_event(event)
            if event is None:
                self.state.undecrypted.pop(event_id, None)
            elif not isinstance(decrypted, MegolmEvent):
                self.state.undecrypted.pop(event_id, None)
                await self._handle_room_events(waiting["room"], [decrypted], retry=True)
            elif now - waiting["first_seen"] >= self.unreadable_after:
                self.state.undecrypted.pop(event_id, None)
                await self._ask_to_resend(waiting["room"], event)
            elif now - waiting["requested"] >= KEY_REQUEST_EVERY:
                await self._request_key(event, first=False)

    @staticmethod
    def _stored_event(waiting: dict):
        from nio import Event, MegolmEvent

        try:
            event = Event.parse_encrypted_event(copy.deepcopy(waiting["source"]))
        except Exception:  # noqa: BLE001 - a damaged entry is dropped
            return None
        if not isinstance(event, MegolmEvent):
            return None
        event.room_id = waiting["room"]
        return event

    async def _ask_to_resend(self, room_id: str, event) -> None:
        log.warning("matrix event not decryptable", extra={"fields": {"room": room_id}})
        room = self.client.rooms.get(room_id)
        if room is None or not self.is_direct(room):
            return  # in a group the message was most likely not for the bot
        with self._catalogue().use(await self._locale_of(event.sender)):
            text = _("I could not read your message (it arrived encrypted without its key); "
                     "please send it again.")
        await self.send(ChatRef("matrix", room_id), Reply(text),
                        idempotency_key=f"unreadable:{event.event_id}")

    def _catalogue(self):
        if self._catalogues is None:
            self._catalogues = Catalogues(self.settings.locales_dir)
        return self._catalogues

    async def _locale_of(self, user_id: str) -> str:
        from sqlalchemy import select

        from bot.people import Identity, User

        try:
            async with self.db.session() as session:
                locale = await session.scalar(select(User.locale).join(
                    Identity, Identity.user_id == User.id).where(
                    Identity.platform == "matrix", Identity.platform_user_id == user_id))
        except Exception:  # noqa: BLE001 - the default language still tells it
            locale = None
        return locale or self.settings.default_locale

    def _base(self, room, event, text: str, direct: bool, **extra) -> IncomingMessage:
        return IncomingMessage(
            chat=ChatRef("matrix", room.room_id), sender_id=event.sender, text=text,
            is_direct=direct, sender_name=room.user_name(event.sender) or event.sender,
            sender_username=event.sender, message_id=event.event_id, **extra)

    def _from_text(self, room, event, direct: bool) -> IncomingMessage | None:
        content = event.source.get("content", {})
        reply_to = (content.get("m.relates_to") or {}).get("m.in_reply_to", {}).get("event_id")
        text, addressed = self._addressing(room, content, strip_reply_fallback(event.body or ""),
                                           reply_to)
        if not direct and not (addressed or self._is_command(text)
                               or self._answers_open_choice(room.room_id, text)):
            return None  # group chatter that is not for the bot
        if not direct:
            # A choice whose value is a command (a reminder's "I'll attend") is for everyone
            # in the room, and nobody has a conversation waiting for "1": typing the number
            # or the label must act like the reaction (or a Telegram button) and send the value.
            text = self._open_command_choice(room.room_id, text) or text
        return self._base(room, event, text.strip(), direct, reply_to=reply_to,
                          addressed=addressed and not direct)

    def _addressing(self, room, content: dict, text: str, reply_to: str | None):
        """The text without a leading mention of the bot, and whether the bot was addressed:
        named, mentioned (an Element pill), or answered (a reply to its own message)."""
        names = [self.user_id, self.user_id.partition(":")[0],
                 self.user_id.partition(":")[0].lstrip("@"), room.user_name(self.user_id) or ""]
        text, mentioned = strip_mention(text, names)
        mentions = (content.get("m.mentions") or {}).get("user_ids") or []
        formatted = content.get("formatted_body") or ""
        addressed = (mentioned or self.user_id in mentions or self.user_id in formatted
                     or (reply_to is not None and reply_to in self.state.sent_events))
        return text, bool(addressed)

    @staticmethod
    def _caption(content: dict) -> str:
        """A file's caption: its `body` when a separate `filename` is given (Matrix 1.10)."""
        body, filename = content.get("body") or "", content.get("filename")
        return body if filename and body != filename else ""

    @staticmethod
    def _is_command(text: str) -> bool:
        stripped = text.lstrip()
        return len(stripped) > 1 and stripped[0] in "/!" and stripped[1].isalpha()

    def _answers_open_choice(self, room_id: str, text: str) -> bool:
        choices = self.state.choices.get(self.state.open_choice.get(room_id, ""))
        if not choices:
            return False
        answer = text.strip().lower()
        return (answer.isdecimal() and 1 <= int(answer) <= len(choices)) or any(
            answer in (label.lower(), value.lower()) for label, value in choices)

    def _open_command_choice(self, room_id: str, text: str) -> str | None:
        choices = self.state.choices.get(self.state.open_choice.get(room_id, "")) or []
        answer = text.strip().lower()
        for number, (label, value) in enumerate(choices, 1):
            if answer in (str(number), label.lower()) and self._is_command(value):
                return value
        return None

    def _from_reaction(self, room, event, direct: bool) -> IncomingMessage | None:
        choices = self.state.choices.get(event.reacts_to)
        if not choices:
            return None
        value = choice_for_reaction(event.key, choices)
        if value is None:
            return None
        return self._base(room, event, value, direct, reply_to=event.reacts_to,
                          addressed=not direct)

    async def _from_media(self, room, event, direct: bool) -> IncomingMessage | None:
        from nio import RoomEncryptedMedia
        from nio.crypto.attachments import decrypt_attachment

        content = event.source.get("content", {})
        info = content.get("info") or {}
        reply_to = (content.get("m.relates_to") or {}).get("m.in_reply_to", {}).get("event_id")
        caption, addressed = self._addressing(room, content, self._caption(content), reply_to)
        command = caption.strip() if self._is_command(caption) else ""
        if not direct and not (addressed or command):
            return None  # a file shared in a group, not for the bot
        if int(info.get("size") or 0) > MAX_DOWNLOAD:
            log.info("matrix file too large", extra={"fields": {"room": room.room_id}})
            return None
        downloaded = await self.client.download(mxc=event.url)
        data = getattr(downloaded, "body", None)
        if not isinstance(data, (bytes, bytearray)):
            log.warning("matrix file download failed", extra={"fields": {"room": room.room_id}})
            return None
        if isinstance(event, RoomEncryptedMedia):
            data = await asyncio.to_thread(decrypt_attachment, bytes(data), event.key["k"],
                                           event.hashes["sha256"], event.iv)
        filename = content.get("filename") or event.body or "file"
        attachment = Attachment(filename, bytes(data),
                                info.get("mimetype") or "application/octet-stream")
        # A command caption ("!import" with the file) is routed as that command.
        return self._base(room, event, command, direct, reply_to=reply_to,
                          attachment=attachment, addressed=not direct)

    # ---- sending ---------------------------------------------------------------------------

    async def send(self, chat: ChatRef, reply: Reply, *,
                   idempotency_key: str | None = None) -> SendResult:
        room_id = chat.chat_id
        if not self._ready.is_set() and not await self.wait_ready(timeout=10):
            # Not connected yet (homeserver down at start-up): the outbox tries again later.
            return SendResult(False, error="not connected to the Matrix homeserver yet")
        if room_id in self.direct.opening and not await self._opened_room(room_id):
            # The sync that shows the new room (and its invitation) has not come yet.
            return SendResult(False, error="the direct chat is still being opened")
        room = self.client.rooms.get(room_id)
        if room is None:
            return SendResult(False, error="the bot is not in this Matrix room", permanent=True)
        base = self._transaction_base(idempotency_key)
        try:
            first_id = None
            if reply.text.strip() or reply.choices or reply.attachment is None:
                first_id = await self._send_event(room, "m.room.message", render_notice(reply),
                                                  f"{base}.0")
                choices = [[c.label, c.value] for c in reply.choices]
                self.state.remember_sent(room_id, first_id, choices)
                if reply.choices and len(reply.choices) <= len(KEYCAPS):
                    await self._offer_reactions(room, first_id, len(reply.choices), base)
            if reply.attachment is not None:
                file_id = await self._send_file(room, reply.attachment, base)
                self.state.remember_sent(room_id, file_id, [])
                first_id = first_id or file_id
        except _SendFailed as failure:
            return SendResult(False, error=failure.reason, permanent=failure.permanent)
        return SendResult(True, message_id=first_id)

    async def _opened_room(self, room_id: str, timeout: float = OPENING_WAIT) -> bool:
        """A direct chat the bot just created appears, with its invitation, in a later sync:
        encrypting before that would leave the person out. Not awaited while the sync loop
        is busy handling messages (the sync that would end the wait could not come)."""
        if self.handling.locked():
            return False
        deadline = asyncio.get_running_loop().time() + timeout
        while room_id in self.direct.opening and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        return room_id not in self.direct.opening

    def _transaction_base(self, idempotency_key: str | None) -> str:
        if idempotency_key:
            return transaction_id("outbox", idempotency_key)
        answering = _answering.get()
        if answering is not None:
            answering.sent += 1
            return transaction_id("reply", answering.event_id, str(answering.sent))
        return transaction_id("adhoc", os.urandom(16).hex())

    async def _offer_reactions(self, room, event_id: str, count: int, base: str) -> None:
        """Pre-adds the keycap reactions so that answering is one click in Element."""
        for index in range(count):
            content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id,
                                        "key": KEYCAPS[index]}}
            try:
                await self._send_event(room, "m.reaction", content, f"{base}.r{index}")
            except _SendFailed:
                return  # the options can still be answered by number or text

    async def _send_file(self, room, attachment: Attachment, base: str) -> str:
        from nio import UploadResponse

        encrypted = bool(room.encrypted)
        uploaded, keys = await self._with_retries(lambda: self.client.upload(
            io.BytesIO(attachment.content), content_type=attachment.mime_type,
            filename=attachment.filename, encrypt=encrypted, filesize=len(attachment.content)))
        if not isinstance(uploaded, UploadResponse):
            raise _SendFailed(f"upload failed: {getattr(uploaded, 'message', uploaded)}")
        content: dict[str, Any] = {
            "msgtype": "m.image" if attachment.is_image else "m.file",
            "body": attachment.filename, "filename": attachment.filename,
            "info": {"mimetype": attachment.mime_type, "size": len(attachment.content)}}
        if encrypted:
            content["file"] = {"url": uploaded.content_uri, **keys}
        else:
            content["url"] = uploaded.content_uri
        return await self._send_event(room, "m.room.message", content, f"{base}.file")

    async def _send_event(self, room, event_type: str, content: dict, tx_id: str) -> str:
        from nio import RoomSendResponse

        if room.encrypted and not await self._prepare_encryption(room) \
                and self.is_direct(room):
            # The person's device keys are not known yet (invited, never logged in with
            # encryption): a message now would be unreadable for them; the outbox retries.
            raise _SendFailed("waiting for the person's device keys")

        async def attempt():
            return await self.client.room_send(room.room_id, event_type, content, tx_id=tx_id,
                                               ignore_unverified_devices=True)

        response = await self._with_retries(attempt)
        if isinstance(response, RoomSendResponse):
            return response.event_id
        code = getattr(response, "status_code", None)
        raise _SendFailed(f"{code}: {getattr(response, 'message', '')}"[:300],
                          permanent=code in {"M_FORBIDDEN", "M_NOT_FOUND"})

    async def _prepare_encryption(self, room) -> bool:
        """Before the first encrypted send into a room and after its membership or a member's
        devices changed: fetch the device list of every joined *and invited* member, apply
        the trust policy and share the group session. A member device that did not get the
        session (keys not published yet, no one-time key) is retried a few times, with a
        fresh session, rather than sending something it cannot read. True when all have it."""
        client = self.client
        if client.olm is None:
            return True
        room_id = room.room_id
        if room_id in self._keys_ready and not client.should_query_keys \
                and not client.olm.should_share_group_session(room_id):
            return True  # the usual case: nothing changed since the last message
        for attempt in range(KEY_ATTEMPTS):
            members = set(room.users)
            if attempt == 0 and room_id not in self._keys_ready:
                client.olm.users_for_key_query.update(members)
            else:
                client.olm.users_for_key_query.update(
                    u for u in members if u not in client.olm.tracked_users
                    or not list(client.device_store.active_user_devices(u)))
            try:
                if client.should_query_keys:
                    await client.keys_query()
                self._apply_trust_policy(room)
                await self._share_session(room_id)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - network trouble: the send itself reports it
                log.debug("matrix key preparation failed", exc_info=True)
            missing = self._without_session(room)
            if not missing:
                self._keys_ready.add(room_id)
                return True
            if attempt + 1 < KEY_ATTEMPTS:
                # A new session next time, shared with everyone including the late devices.
                client.invalidate_outbound_session(room_id)
                await asyncio.sleep(KEY_RETRY_FIRST * 2 ** attempt)
        log.warning("matrix room members without keys", extra={"fields": {
            "room": room_id, "members": len(missing)}})
        if not self.is_direct(room):
            # A group goes on with the members who can read; tried again after the next
            # membership or device change rather than before every message.
            self._keys_ready.add(room_id)
        return False

    async def _share_session(self, room_id: str) -> None:
        client = self.client
        waiting = client.sharing_session.get(room_id)
        if waiting is not None:
            await waiting.wait()  # another send is sharing it right now
        if client.olm.should_share_group_session(room_id):
            await client.share_group_session(room_id, ignore_unverified_devices=True)

    def _without_session(self, room) -> set[str]:
        """Members with no known device, or with a device (not excluded by the trust policy)
        that the current group session was not shared with."""
        client = self.client
        session = client.olm.outbound_group_sessions.get(room.room_id)
        reached = (session.users_shared_with | session.users_ignored) if session else set()
        missing = set()
        for user in room.users:
            devices = [d for d in client.device_store.active_user_devices(user)
                       if d.id != client.device_id]
            if not devices and user != self.user_id:
                missing.add(user)   # no device key of theirs is known at all
            elif any((user, d.id) not in reached for d in devices
                     if not client.olm.is_device_blacklisted(d)):   # verified_only: by policy
                missing.add(user)
        return missing

    def _apply_trust_policy(self, room) -> None:
        """trust_on_first_use: every device seen is trusted (until its keys change);
        verified_only: devices not verified by the operator get no room keys."""
        client = self.client
        if client.olm is None:
            return
        for user_id in room.users:
            for device in client.device_store.active_user_devices(user_id):
                if client.olm.is_device_verified(device) \
                        or client.olm.is_device_blacklisted(device):
                    continue
                if self.trust_on_first_use:
                    client.verify_device(device)
                else:
                    client.blacklist_device(device)

    async def _with_retries(self, call: Callable[[], Awaitable[Any]]):
        """A few attempts with backoff on network errors, 5xx and M_LIMIT_EXCEEDED (after
        `retry_after_ms`); the transaction id makes each retry safe."""
        last: Any = None
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                response = await call()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - aiohttp/OS errors while the server is away
                last, wait = exc, backoff_delay(attempt, first=0.5, cap=8)
            else:
                result = response[0] if isinstance(response, tuple) else response
                status = getattr(getattr(result, "transport_response", None), "status", 200)
                code = getattr(result, "status_code", None)
                if code == "M_LIMIT_EXCEEDED":
                    last, wait = result, (getattr(result, "retry_after_ms", 0) or 1000) / 1000
                elif status is not None and status >= 500:
                    last, wait = result, backoff_delay(attempt, first=0.5, cap=8)
                else:
                    return response
            if attempt < SEND_ATTEMPTS and not self._stopping:
                await asyncio.sleep(min(wait, MAX_BACKOFF))
        if isinstance(last, Exception):
            raise _SendFailed(f"homeserver unreachable ({type(last).__name__})")
        return last


class _SendFailed(Exception):
    def __init__(self, reason: str, *, permanent: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
