"""The Matrix transport (matrix-nio with end-to-end encryption): a thin translator between Matrix
rooms and the neutral model of `bot.messages`.

Delivery guarantee: the sync token is saved only after every event of a sync batch was handled,
together with the ids of the events already answered, so a restart resumes exactly where the
bot stopped (nothing lost, nothing answered twice). Every send carries a transaction id derived
from the outbox row's idempotency key or from the event being answered, so a resend after a
crash is deduplicated by the homeserver.

Beside it: `matrix_state` (files kept across restarts), `matrix_format` (rendering, choices,
mentions), `matrix_events` (events → `IncomingMessage`), `matrix_send` (events out, retried),
`matrix_crypto` (device trust, room keys, late keys), `matrix_direct` (direct chats)."""
from __future__ import annotations

import asyncio
import inspect
import logging
import random
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.config import Settings
from bot.db import Database
from bot.logs import hide
from bot.messages import ChatRef, IncomingMessage, Reply
from bot.retry import MatrixRetries
from bot.transports.base import Receiver, SendResult
from bot.transports.matrix_crypto import UNREADABLE_AFTER, LateKeys, RoomKeys
from bot.transports.matrix_direct import DirectChats, membership_changed_rooms
from bot.transports.matrix_events import EventReader
from bot.transports.matrix_format import is_allowed
from bot.transports.matrix_send import (RoomSender, SendFailed, answering, limit_wait,
                                        transaction_base)
from bot.transports.matrix_state import Credentials, MatrixState

if TYPE_CHECKING:
    from nio import MatrixRoom

    from bot.devices import DeviceVerifications

log = logging.getLogger("coordbot.matrix")

# A generous timeline per room so that messages sent while the bot was down all arrive.
SYNC_FILTER = {"room": {"timeline": {"limit": 100}, "state": {"lazy_load_members": False}},
               "presence": {"not_types": ["*"]}}
OPENING_WAIT = 15.0
MAX_GAP_PAGES = 10  # beyond 100 + 1000 missed events per room, the oldest are dropped

__all__ = ["MatrixSetupError", "MatrixTransport", "is_allowed"]


class MatrixSetupError(RuntimeError):
    """The Matrix account cannot be used (wrong password, revoked token); told in one line."""


class MatrixTransport:
    platform = "matrix"
    served_chats: frozenset[str] | None = None

    def __init__(self, settings: Settings, *, sync_timeout_ms: int = 30_000,
                 request_timeout: float = 60.0, db: Database | None = None,
                 retry: MatrixRetries | None = None,
                 verifications: DeviceVerifications | None = None):
        from nio import AsyncClient, AsyncClientConfig

        self.settings = settings
        self.retry = retry or MatrixRetries()
        self.store_path = Path(settings.matrix_store_path or settings.data_dir / "matrix")
        self.store_path.mkdir(parents=True, exist_ok=True)
        self.state = MatrixState.load(self.store_path / "coordbot-state.json")
        self.user_id = settings.matrix_user_id
        self.credentials = Credentials(self.store_path / "credentials.json",
                                       settings.matrix_homeserver, self.user_id)
        self.sync_timeout_ms = sync_timeout_ms
        self.sync_filter: dict[str, Any] = SYNC_FILTER
        config = AsyncClientConfig(
            # The sync position lives in coordbot-state.json: nio's own copy would cost a
            # SQLite write (an fsync) before every message is handled (benchmarks/
            # matrix_reply_profile.py: 19-32 ms of a reply under load).
            encryption_enabled=True, store_sync_tokens=False,
            # Our own loop does the retrying, with backoff and jitter, and honours
            # M_LIMIT_EXCEEDED: nio must hand every failure back at once.
            max_timeouts=0, max_limit_exceeded=0, request_timeout=request_timeout)
        self.client = AsyncClient(settings.matrix_homeserver.rstrip("/"), self.user_id,
                                  store_path=str(self.store_path), config=config)
        self.trust_on_first_use = settings.matrix_trust != "verified_only"
        self._receive: Receiver | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._ready = asyncio.Event()
        self._logged_in = False
        self.sync_failures = 0
        self.unreadable_after = UNREADABLE_AFTER
        # The application's database (direct chats are recorded on people's identities); a
        # transport built from settings alone opens its own connection pool.
        self._own_db = db is None
        self.db = db or Database(settings.effective_database_url)
        self.direct = DirectChats(self)
        self.keys = RoomKeys(self)
        self.late_keys = LateKeys(self)
        self.reader = EventReader(self)
        self.sender = RoomSender(self)
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

    async def wait_ready(self, within: float = 30.0) -> bool:
        """True once the first sync arrived (rooms known), waiting at most `within` s."""
        try:
            async with asyncio.timeout(within):
                await self._ready.wait()
            return True
        except TimeoutError:
            return False

    async def _login(self) -> None:
        if self._logged_in:
            return
        stored = self.credentials.load()
        token = self.settings.matrix_access_token
        if token:
            await self._login_with_token(token, stored)
        elif stored.get("access_token") and stored.get("user_id") == self.user_id:
            self.client.restore_login(self.user_id, stored["device_id"], stored["access_token"])
        else:
            await self._login_with_password(stored)
        self._logged_in = True
        hide(self.client.access_token, self.settings.matrix_password)
        log.info("matrix logged in", extra={"fields": {"device_id": self.client.device_id}})
        if self.client.should_upload_keys:
            await self.client.keys_upload()

    async def _login_with_token(self, token: str, stored: dict[str, Any]) -> None:
        from nio import WhoamiResponse

        device_id = stored.get("device_id") if stored.get("access_token") == token else None
        if not device_id:
            self.client.access_token = token
            whoami = await self.client.whoami()
            if not isinstance(whoami, WhoamiResponse) or not whoami.device_id:
                raise MatrixSetupError(f"the Matrix access token was refused: "
                                       f"{getattr(whoami, 'message', whoami)}")
            device_id = whoami.device_id
        self.client.restore_login(self.user_id, device_id, token)
        self.credentials.save(device_id, token)

    async def _login_with_password(self, stored: dict[str, Any]) -> None:
        from nio import LoginError

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
        self.credentials.save(response.device_id, response.access_token)

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
            await self.retry.sync.sleep(self._delay_after(outcome))

    def _delay_after(self, outcome: Any) -> float:
        if getattr(outcome, "status_code", None) == "M_LIMIT_EXCEEDED" \
                and getattr(outcome, "retry_after_ms", None):
            return limit_wait(outcome) + random.uniform(0, 0.25)
        self.sync_failures += 1
        delay = self.retry.sync.delay(self.sync_failures)
        log.warning("matrix homeserver unavailable, retrying", extra={"fields": {
            "failures": self.sync_failures, "delay_s": round(delay, 1)}})
        return delay

    async def _sync_once(self, first: bool) -> Any:
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
        await self.keys.housekeeping()
        await self._handle_invites(response)
        async with self.handling:
            # The very first sync of a fresh bot holds history only: nothing in it is for us.
            await self._handle_timelines(response, answer=resuming or not first,
                                         since=self.state.next_batch)
            await self.late_keys.retry(keys_arrived=first or bool(response.to_device_events))
        await self._leave_empty_rooms(response)
        changed = membership_changed_rooms(response)
        self.keys.forget(changed)
        self.direct.on_sync(response, changed)
        self.state.next_batch = response.next_batch
        await self.state.save_async()
        await self.keys.housekeeping()
        return True

    async def _forget_login(self) -> None:
        if not self.settings.matrix_password or self.settings.matrix_access_token:
            raise MatrixSetupError("the Matrix access token is no longer valid")
        self.credentials.forget_token()
        self.client.access_token = ""
        self._logged_in = False

    # ---- rooms -----------------------------------------------------------------------------

    async def _handle_invites(self, response: Any) -> None:
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

    async def _leave_empty_rooms(self, response: Any) -> None:
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

    def _someone_left(self, info: Any) -> bool:
        from nio import RoomMemberEvent

        return any(isinstance(e, RoomMemberEvent) and e.state_key != self.user_id
                   and e.membership in {"leave", "ban"}
                   for e in [*info.state, *info.timeline.events])

    def is_direct(self, room: MatrixRoom) -> bool:
        # Flagged direct by its inviter or not, a room with a third person is a group: the
        # bot answers there only when addressed, and writes to each person privately elsewhere
        # (otherwise a direct chat someone else joined would keep receiving private messages).
        return room.member_count <= 2

    # ---- incoming events -------------------------------------------------------------------

    async def _handle_timelines(self, response: Any, *, answer: bool,
                                since: str | None) -> None:
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
            work.append(self.handle_room_events(room_id, events))
        # Rooms are independent: answer them concurrently, each in order.
        await asyncio.gather(*work)

    async def _missed_events(self, room_id: str, start: str, since: str) -> list[Any]:
        """A limited timeline (many messages while the bot was away): fetch the gap between
        the stored position and the batch, oldest first, a bounded number of pages."""
        from nio import MessageDirection, RoomMessagesResponse

        pages: list[Any] = []
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

    def _after_own_join(self, events: list[Any]) -> list[Any]:
        """Events before the bot's own join in this batch happened before it was there."""
        from nio import RoomMemberEvent

        start = 0
        for index, event in enumerate(events):
            if isinstance(event, RoomMemberEvent) and event.state_key == self.user_id \
                    and event.membership == "join" and event.prev_membership != "join":
                start = index + 1
        return events[start:]

    async def handle_room_events(self, room_id: str, events: list[Any], *,
                                 retry: bool = False) -> None:
        for event in events:
            event_id = getattr(event, "event_id", None)
            if not event_id or event.sender == self.user_id or (
                    event_id in self.state.handled and not retry):
                continue
            try:
                message = await self._translate(room_id, event)
                if message is not None and self._receive is not None:
                    with answering(event_id):
                        await self._receive(message)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - one bad event must not stop the others
                log.exception("matrix event not handled", extra={"fields": {"room": room_id}})
            self.state.mark_handled(event_id)

    async def _translate(self, room_id: str, event: Any) -> IncomingMessage | None:
        """The event table: each kind of room event → the neutral model (or nothing)."""
        from nio import (MegolmEvent, ReactionEvent, RoomEncryptedMedia, RoomMessageMedia,
                         RoomMessageText)

        room = self.client.rooms.get(room_id)
        if room is None:
            return None
        if isinstance(event, MegolmEvent):
            await self.late_keys.wait_for_key(room_id, event)
            return None
        if getattr(event, "decrypted", False) and not self.trust_on_first_use \
                and not getattr(event, "verified", False):
            log.info("matrix message from unverified device ignored",
                     extra={"fields": {"room": room_id}})
            return None
        direct = self.is_direct(room)
        readers: list[tuple[type | tuple[type, ...], Callable[..., Any]]] = [
            (ReactionEvent, self.reader.from_reaction),
            (RoomMessageText, self.reader.from_text),
            ((RoomMessageMedia, RoomEncryptedMedia), self.reader.from_media)]
        for kind, read in readers:
            if isinstance(event, kind):
                message = read(room, event, direct)
                return await message if inspect.isawaitable(message) else message
        return None

    # ---- sending ---------------------------------------------------------------------------

    async def send(self, chat: ChatRef, reply: Reply, *,
                   idempotency_key: str | None = None) -> SendResult:
        room_id = chat.chat_id
        if not self._ready.is_set() and not await self.wait_ready(within=10):
            # Not connected yet (homeserver down at start-up): the outbox tries again later.
            return SendResult(False, error="not connected to the Matrix homeserver yet")
        if room_id in self.direct.opening and not await self._opened_room(room_id):
            # The sync that shows the new room (and its invitation) has not come yet.
            return SendResult(False, error="the direct chat is still being opened")
        room = self.client.rooms.get(room_id)
        if room is None:
            return SendResult(False, error="the bot is not in this Matrix room", permanent=True)
        try:
            first_id = await self.sender.send_reply(room, reply,
                                                    transaction_base(idempotency_key))
        except SendFailed as failure:
            return SendResult(False, error=failure.reason, permanent=failure.permanent,
                              retry_after=failure.retry_after)
        return SendResult(True, message_id=first_id)

    async def _opened_room(self, room_id: str, within: float = OPENING_WAIT) -> bool:
        """A direct chat the bot just created appears, with its invitation, in a later sync:
        encrypting before that would leave the person out. Not awaited while the sync loop
        is busy handling messages (the sync that would end the wait could not come)."""
        if self.handling.locked():
            return False
        deadline = asyncio.get_running_loop().time() + within
        # The sync loop removes the room from `opening`; polled, as nio gives no event for it.
        while room_id in self.direct.opening and asyncio.get_running_loop().time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        return room_id not in self.direct.opening
