"""End-to-end encryption for the Matrix transport: device trust, sharing the room keys before a
send (`RoomKeys`), and messages whose room key came late or not at all (`LateKeys`)."""
from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import time
from typing import TYPE_CHECKING, Any

from bot.i18n import Catalogues, _
from bot.messages import ChatRef, Reply
from bot.transports.matrix_state import bounded

if TYPE_CHECKING:
    from nio import AsyncClient, MatrixRoom, MegolmEvent

    from bot.transports.matrix import MatrixTransport

log = logging.getLogger("coordbot.matrix")

UNREADABLE_AFTER = 600.0   # then the person is asked to send the message again
KEY_REQUEST_EVERY = 60.0   # re-request a missing room key this often meanwhile
KEY_CHECK_EVERY = 5.0      # look at waiting events at least this often
MAX_UNDECRYPTED = 500


class RoomKeys:
    """Who may read the bot's encrypted messages, and handing them the room key first."""

    def __init__(self, transport: MatrixTransport):
        self.transport = transport
        self.policy = transport.retry.keys
        # Encrypted rooms whose members' devices all hold the current group session.
        self.ready: set[str] = set()

    @property
    def client(self) -> AsyncClient:
        return self.transport.client

    def forget(self, room_ids: set[str]) -> None:
        """Membership changed in these rooms: check their members' keys before the next send."""
        self.ready -= room_ids

    async def housekeeping(self) -> None:
        client = self.client
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())
        await client.send_to_device_messages()

    async def prepare(self, room: MatrixRoom) -> bool:
        """Before the first encrypted send into a room and after its membership or a member's
        devices changed: fetch the device list of every joined *and invited* member, apply
        the trust policy and share the group session. A member device that did not get the
        session (keys not published yet, no one-time key) is retried a few times, with a
        fresh session, rather than sending something it cannot read. True when all have it."""
        client = self.client
        if client.olm is None:
            return True
        room_id = room.room_id
        if room_id in self.ready and not client.should_query_keys \
                and not client.olm.should_share_group_session(room_id):
            return True  # the usual case: nothing changed since the last message
        missing: set[str] = set()
        attempts = self.policy.attempts or 1
        for attempt in range(1, attempts + 1):
            await self._share_with_members(room, first=attempt == 1)
            missing = self._without_session(room)
            if not missing:
                self.ready.add(room_id)
                return True
            if attempt < attempts:
                # A new session next time, shared with everyone including the late devices.
                client.invalidate_outbound_session(room_id)
                await self.policy.pause(attempt)
        log.warning("matrix room members without keys", extra={"fields": {
            "room": room_id, "members": len(missing)}})
        if not self.transport.is_direct(room):
            # A group goes on with the members who can read; tried again after the next
            # membership or device change rather than before every message.
            self.ready.add(room_id)
        return False

    async def _share_with_members(self, room: MatrixRoom, *, first: bool) -> None:
        client = self.client
        assert client.olm is not None
        members = set(room.users)
        if first and room.room_id not in self.ready:
            client.olm.users_for_key_query.update(members)
        else:
            client.olm.users_for_key_query.update(
                u for u in members if u not in client.olm.tracked_users
                or not list(client.device_store.active_user_devices(u)))
        try:
            if client.should_query_keys:
                await client.keys_query()
            self.apply_trust_policy(room)
            await self._share_session(room.room_id)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - network trouble: the send itself reports it
            log.debug("matrix key preparation failed", exc_info=True)

    async def _share_session(self, room_id: str) -> None:
        client = self.client
        waiting = client.sharing_session.get(room_id)
        if waiting is not None:
            await waiting.wait()  # another send is sharing it right now
        if client.olm is not None and client.olm.should_share_group_session(room_id):
            await client.share_group_session(room_id, ignore_unverified_devices=True)

    def _without_session(self, room: MatrixRoom) -> set[str]:
        """Members with no known device, or with a device (not excluded by the trust policy)
        that the current group session was not shared with."""
        client = self.client
        assert client.olm is not None
        session = client.olm.outbound_group_sessions.get(room.room_id)
        reached = (session.users_shared_with | session.users_ignored) if session else set()
        missing = set()
        for user in room.users:
            devices = [d for d in client.device_store.active_user_devices(user)
                       if d.id != client.device_id]
            if not devices and user != self.transport.user_id:
                missing.add(user)   # no device key of theirs is known at all
            elif any((user, d.id) not in reached for d in devices
                     if not client.olm.is_device_blacklisted(d)):   # verified_only: by policy
                missing.add(user)
        return missing

    def apply_trust_policy(self, room: MatrixRoom) -> None:
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
                if self.transport.trust_on_first_use:
                    client.verify_device(device)
                else:
                    client.blacklist_device(device)


class LateKeys:
    """Encrypted messages that arrived before their room key: kept in the state file, their
    key asked for again, handled once it comes, or answered with "please send it again"."""

    def __init__(self, transport: MatrixTransport):
        self.transport = transport
        self._last_check = 0.0
        self._catalogues: Catalogues | None = None

    @property
    def client(self) -> AsyncClient:
        return self.transport.client

    async def wait_for_key(self, room_id: str, event: MegolmEvent) -> None:
        """The room key sometimes arrives after the message (or only on request): the event is
        kept in the state file, so that a restart does not lose it, and its key is requested
        from the sender's device and from the bot's other devices."""
        undecrypted = self.transport.state.undecrypted
        if event.event_id in undecrypted:
            return
        undecrypted[event.event_id] = {
            "room": room_id, "source": event.source, "first_seen": time.time(), "requested": 0}
        bounded(undecrypted, MAX_UNDECRYPTED)
        await self._request_key(event, first=True)

    async def _request_key(self, event: MegolmEvent, *, first: bool) -> None:
        waiting = self.transport.state.undecrypted.get(event.event_id)
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

    async def retry(self, *, keys_arrived: bool = True) -> None:
        """After a sync that brought to-device messages (room keys come that way), and every
        few seconds otherwise: what can now be decrypted is handled, in arrival order; keys
        still missing are asked again; a direct message still unreadable after
        `unreadable_after` seconds gets one "please send it again" and is dropped. Skipped on
        the other syncs, so that a backlog of unreadable events does not slow every reply."""
        undecrypted = self.transport.state.undecrypted
        now = time.time()
        if not undecrypted or (not keys_arrived and now - self._last_check < KEY_CHECK_EVERY):
            return
        self._last_check = now
        for event_id, waiting in list(undecrypted.items()):
            await self._retry_one(event_id, waiting, now)

    async def _retry_one(self, event_id: str, waiting: dict[str, Any], now: float) -> None:
        from nio import MegolmEvent

        undecrypted = self.transport.state.undecrypted
        event = _stored_event(waiting)
        if event is None:
            undecrypted.pop(event_id, None)
            return
        decrypted: Any = event
        with contextlib.suppress(Exception):  # still no key
            decrypted = self.client.decrypt_event(event)
        if not isinstance(decrypted, MegolmEvent):
            undecrypted.pop(event_id, None)
            await self.transport.handle_room_events(waiting["room"], [decrypted], retry=True)
        elif now - waiting["first_seen"] >= self.transport.unreadable_after:
            undecrypted.pop(event_id, None)
            await self._ask_to_resend(waiting["room"], event)
        elif now - waiting["requested"] >= KEY_REQUEST_EVERY:
            await self._request_key(event, first=False)

    async def _ask_to_resend(self, room_id: str, event: MegolmEvent) -> None:
        log.warning("matrix event not decryptable", extra={"fields": {"room": room_id}})
        room = self.client.rooms.get(room_id)
        if room is None or not self.transport.is_direct(room):
            return  # in a group the message was most likely not for the bot
        with self._catalogue().use(await self._locale_of(event.sender)):
            text = _("I could not read your message (it arrived encrypted without its key); "
                     "please send it again.")
        await self.transport.send(ChatRef("matrix", room_id), Reply(text),
                                  idempotency_key=f"unreadable:{event.event_id}")

    def _catalogue(self) -> Catalogues:
        if self._catalogues is None:
            self._catalogues = Catalogues(self.transport.settings.locales_dir)
        return self._catalogues

    async def _locale_of(self, user_id: str) -> str:
        from sqlalchemy import select

        from bot.people import Identity, User

        try:
            async with self.transport.db.session() as session:
                locale = await session.scalar(select(User.locale).join(
                    Identity, Identity.user_id == User.id).where(
                    Identity.platform == "matrix", Identity.platform_user_id == user_id))
        except Exception:  # noqa: BLE001 - the default language still tells it
            locale = None
        return locale or self.transport.settings.default_locale


def _stored_event(waiting: dict[str, Any]) -> MegolmEvent | None:
    from nio import Event, MegolmEvent

    try:
        event = Event.parse_encrypted_event(copy.deepcopy(waiting["source"]))
    except Exception:  # noqa: BLE001 - a damaged entry is dropped
        return None
    if not isinstance(event, MegolmEvent):
        return None
    event.room_id = waiting["room"]
    return event
