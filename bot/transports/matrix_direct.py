"""A private chat with everyone the Matrix bot knows (issue 17).

"Knows" means: shares a room with the bot. For each such person the bot keeps, in
`identities.direct_chat_id`, the room it writes to them in private, so that audiences
(`!broadcast @person:server; …`, check-ins, reminders) reach people met in a group room:

- an existing direct chat is used even if nobody wrote there yet: a room of the bot's `m.direct`
  account data, or a room with only the bot and that person (joined or invited);
- otherwise the bot opens one itself: encrypted, `is_direct`, recorded in its `m.direct`.

A person who declines the invitation or leaves the direct chat is marked unreachable (like a
Telegram chat that blocked the bot), and the bot does not open another one: broadcasts report
them as unreachable until they write to the bot again.
"""
from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from sqlalchemy import select

from bot.messages import ChatRef
from bot.people import Identity, People, User, utcnow

log = logging.getLogger("coordbot.matrix")

ENCRYPTION_STATE = {"type": "m.room.encryption", "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"}}
CONCURRENT_OPENS = 5
_MISSING = object()


def membership_changed_rooms(response) -> set[str]:
    """Joined rooms whose membership changed in this sync (joins, invites, leaves)."""
    from nio import RoomMemberEvent

    changed = set()
    for room_id, info in response.rooms.join.items():
        events = list(info.state) + list(info.timeline.events)
        if any(isinstance(event, RoomMemberEvent) for event in events):
            changed.add(room_id)
    return changed


def direct_account_data(response) -> dict[str, list[str]] | None:
    """The bot's `m.direct` (person → rooms) when this sync carries it."""
    for event in response.account_data_events:
        if getattr(event, "type", None) == "m.direct" and isinstance(event.content, dict):
            return {user: list(rooms) for user, rooms in event.content.items()
                    if isinstance(rooms, list)}
    return None


class DirectChats:
    """Finds or opens the direct chat of every person the bot shares a room with."""

    def __init__(self, transport: Any):
        self.transport = transport
        self.m_direct: dict[str, list[str]] = {}
        # person → the room recorded at the last pass (or None): only changes touch the database
        self.recorded: dict[str, str | None] = {}
        # rooms the bot created that the sync has not shown yet → the person invited
        self.opening: dict[str, str] = {}
        self._dirty = True
        self._retry_next_sync = False
        self._task: asyncio.Task | None = None
        self._m_direct_lock = asyncio.Lock()
        self._gate = asyncio.Semaphore(CONCURRENT_OPENS)

    @property
    def client(self):
        return self.transport.client

    @property
    def user_id(self) -> str:
        return self.transport.user_id

    # ---- triggers ------------------------------------------------------------------------

    def on_sync(self, response, changed_rooms: set[str]) -> None:
        """Called after every sync: a new `m.direct` or a membership change starts a pass in
        the background (the reply path never waits for it)."""
        found = direct_account_data(response)
        if found is not None:
            self.m_direct = found
            self._dirty = True
        if changed_rooms or response.rooms.leave or self._retry_next_sync:
            self._dirty = True
            self._retry_next_sync = False
        for room_id, user in list(self.opening.items()):
            room = self.client.rooms.get(room_id)
            if room is not None and user in room.users:
                self.opening.pop(room_id, None)  # the invitation is known: sends may encrypt
        if self._dirty and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self._refresh(), name="matrix-direct-chats")

    async def wait_idle(self, within: float = 30.0) -> None:
        """Until the current pass is over (tests, shutdown)."""
        deadline = asyncio.get_running_loop().time() + within
        while (self._task is not None and not self._task.done()) or self._dirty:
            if asyncio.get_running_loop().time() > deadline:
                return
            if self._task is None or self._task.done():
                await asyncio.sleep(0.05)
                continue
            await asyncio.wait([self._task], timeout=0.5)

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass

    # ---- one pass ------------------------------------------------------------------------

    async def _refresh(self) -> None:
        while self._dirty and not self.transport.stopping:
            self._dirty = False
            try:
                await self._pass()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - tried again after the next sync
                log.exception("matrix direct chats not updated")
                self._retry_next_sync = True
                return

    async def _pass(self) -> None:
        people = self.people_and_rooms()
        changed = {user: found for user, found in people.items()
                   if self.recorded.get(user, _MISSING) is _MISSING
                   or self.recorded[user] not in found[1]}
        if not changed:
            return
        to_open = await self._record(changed)
        opened = await asyncio.gather(*(self._open(user) for user in to_open))
        await self._record_opened({user: room for user, room
                                   in zip(to_open, opened, strict=True) if room})

    def people_and_rooms(self) -> dict[str, tuple[str, list[str]]]:
        """Everyone sharing a joined room with the bot → (display name, their direct rooms,
        best first). Invited members count only in a direct chat (the bot's invitation)."""
        people: dict[str, tuple[str, list[str]]] = {}
        for room in self.client.rooms.values():
            others = [u for u in room.users if u != self.user_id]
            direct_with = others[0] if len(others) == 1 and self._may_be_direct(room) else None
            for user in others:
                if user in room.invited_users and user != direct_with:
                    continue
                name, rooms = people.get(user, (room.user_name(user) or user, []))
                if user == direct_with:
                    rooms.append(room.room_id)
                people[user] = (name, rooms)
        for user, (_name, rooms) in people.items():
            listed = set(self.m_direct.get(user, []))
            rooms.sort(key=lambda r: (r not in listed, not self.client.rooms[r].encrypted, r))
        return people

    def _may_be_direct(self, room) -> bool:
        return self.user_id in room.users and self.user_id not in room.invited_users

    def is_listed(self, room_id: str) -> bool:
        return any(room_id in rooms for rooms in self.m_direct.values())

    async def _record(self, changed: dict[str, tuple[str, list[str]]]) -> list[str]:
        """Creates the people the bot meets for the first time and points each one's
        `direct_chat_id` at an existing direct chat. Returns who still needs one opened."""
        from bot.transports.matrix_format import is_allowed

        to_open = []
        settings = self.transport.settings
        async with self.transport.handling, self.transport.db.transaction() as session:
            identities = {}
            users = sorted(changed)
            for start in range(0, len(users), 500):
                for identity in await session.scalars(select(Identity).where(
                        Identity.platform == "matrix",
                        Identity.platform_user_id.in_(users[start:start + 500]))):
                    identities[identity.platform_user_id] = identity
            for user, (name, rooms) in changed.items():
                identity = identities.get(user)
                if identity is None:
                    person = User(display_name=name[:200], role_code="guest",
                                  timezone=settings.timezone, created_at=utcnow())
                    identity = Identity(platform="matrix", platform_user_id=user,
                                        username=user, user=person)
                    session.add_all([person, identity])
                if self._became_group(identity.direct_chat_id):
                    identity.direct_chat_id = None   # others joined: no longer private
                if rooms and identity.direct_chat_id not in rooms:
                    identity.direct_chat_id = rooms[0]
                elif not rooms and identity.direct_chat_id is None \
                        and is_allowed(user, settings.matrix_allowed):
                    to_open.append(user)   # people of servers not allowed are not invited
                # Otherwise the recorded chat stays: still valid, or declined/left (unreachable,
                # and the bot does not insist with a new invitation).
                self.recorded[user] = identity.direct_chat_id
        return to_open

    def _became_group(self, room_id: str | None) -> bool:
        room = self.client.rooms.get(room_id) if room_id else None
        return room is not None and len(room.users) > 2

    async def _open(self, user: str) -> str | None:
        from nio import RoomCreateResponse, RoomPreset

        async with self._gate:
            response = await self.client.room_create(
                is_direct=True, preset=RoomPreset.trusted_private_chat, invite=[user],
                initial_state=[ENCRYPTION_STATE])
        if not isinstance(response, RoomCreateResponse):
            log.warning("matrix direct chat not opened", extra={"fields": {
                "error": getattr(response, "status_code", type(response).__name__)}})
            self._retry_next_sync = True   # rate-limited or offline: not in a tight loop
            return None
        self.opening[response.room_id] = user
        await self._list_direct(user, response.room_id)
        log.info("matrix direct chat opened", extra={"fields": {"room": response.room_id}})
        return response.room_id

    async def _list_direct(self, user: str, room_id: str) -> None:
        """Adds the room to the bot's `m.direct`, as Element does for the chats it opens."""
        from nio.api import Api

        async with self._m_direct_lock:
            rooms = self.m_direct.setdefault(user, [])
            if room_id not in rooms:
                rooms.append(room_id)
            path = Api._build_path(["user", self.user_id, "account_data", "m.direct"],
                                   {"access_token": self.client.access_token})
            try:
                response = await self.client.send(
                    "PUT", path, json.dumps(self.m_direct),
                    headers={"Content-Type": "application/json"})
                response.release()
            except Exception:  # noqa: BLE001 - the room is direct anyway (is_direct invite)
                log.warning("matrix m.direct not updated")

    async def _record_opened(self, opened: dict[str, str]) -> None:
        if not opened:
            return
        async with self.transport.handling, self.transport.db.transaction() as session:
            for identity in await session.scalars(select(Identity).where(
                    Identity.platform == "matrix",
                    Identity.platform_user_id.in_(sorted(opened)))):
                if identity.direct_chat_id is None:
                    identity.direct_chat_id = opened[identity.platform_user_id]
                self.recorded[identity.platform_user_id] = identity.direct_chat_id

    # ---- declined invitations, left chats ------------------------------------------------

    async def person_left(self, room_id: str) -> bool:
        """Whether a room where the bot looks alone was really left. A direct chat the bot is
        creating shows up in a sync before the invitation (Synapse writes the creation event
        by event): alone there means "not invited yet", not "declined"."""
        from nio import RoomGetStateEventResponse

        if room_id in self.opening:
            return False
        person = next((user for user, rooms in self.m_direct.items() if room_id in rooms), None)
        if person is None:
            return True
        response = await self.client.room_get_state_event(room_id, "m.room.member", person)
        if isinstance(response, RoomGetStateEventResponse):
            return response.content.get("membership") in {"leave", "ban"}
        return getattr(response, "status_code", None) != "M_NOT_FOUND"

    async def person_gone(self, room_id: str) -> None:
        """The person declined the bot's invitation or left the direct chat: like a chat that
        blocked the bot, broadcasts report it and queued messages fail for good."""
        async with self.transport.db.transaction() as session:
            owner = await session.scalar(select(Identity.id).where(
                Identity.platform == "matrix", Identity.direct_chat_id == room_id).limit(1))
            if owner is None:
                return  # a group room everybody left
            people = People([], self.transport.settings.timezone)
            await people.mark_unreachable(session, ChatRef("matrix", room_id), utcnow())
        log.info("matrix direct chat declined or left", extra={"fields": {"room": room_id}})
