"""Resolving stored audience tokens to the people and chats a message goes to, when it is
sent (so someone who gets a role later is in the next occurrence)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from collections.abc import Awaitable, Callable

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.people import Identity, KnownChat, User

@dataclass(frozen=True)
class Recipient:
    chat_key: str
    user_id: int | None = None  # None for a group chat
    locale: str | None = None
    timezone: str | None = None
    is_direct: bool = True
    name: str = ""  # the person's display name, or "" for a group


NO_DIRECT_CHAT, BLOCKED = "no_direct_chat", "blocked"


@dataclass(frozen=True)
class Unreachable:
    name: str
    reason: str  # NO_DIRECT_CHAT, or BLOCKED: the platform said the chat refuses the bot


# Given an area and the people the directory places somewhere, who else is in the area (the
# check-ins place people the directory does not by the region of their latest answer).
PlaceFallback = Callable[[str, set[int]], Awaitable[set[int]]]


@dataclass
class AudienceResolver:
    """Resolves tokens to people and chats. One per run: look-ups are cached, because a
    thousand reminders due at once mostly address the same few people and groups."""

    session: AsyncSession
    directory: Any = None
    place_fallback: PlaceFallback | None = None
    _direct: dict[int, tuple[Recipient | None, User]] = field(default_factory=dict)
    _chat: dict[str, Recipient] = field(default_factory=dict)
    _placed: list[tuple[User, str]] | None = None
    _blocked: set[str] | None = None

    async def prefetch(self, token_lists: list[list[str]], user_ids: set[int]) -> None:
        """Loads, in three queries, the people and chats a batch of schedules addresses, so
        that resolving each schedule afterwards needs no round trip."""
        ids = set(user_ids)
        chat_keys = set()
        for tokens_ in token_lists:
            for token in tokens_:
                kind, _sep, value = token.partition(":")
                if kind == "user" and value.isdecimal():
                    ids.add(int(value))
                elif kind == "chat":
                    chat_keys.add(value)
        if ids:
            users = {u.id: u for u in await self.session.scalars(
                select(User).where(User.id.in_(ids)))}
            identities = list(await self.session.scalars(select(Identity).where(
                Identity.user_id.in_(ids), Identity.direct_chat_id.is_not(None))
                .order_by(Identity.id)))
            for user_id, user in users.items():
                mine = [i for i in identities if i.user_id == user_id]
                self._direct[user_id] = (_recipient(mine[0], user) if mine else None, user)
        if chat_keys:
            chat_ids = {key.partition(":")[2] for key in chat_keys}
            found = list(await self.session.scalars(select(Identity).where(
                Identity.direct_chat_id.in_(chat_ids)).order_by(Identity.id)))
            for key in chat_keys:
                platform, _sep, chat_id = key.partition(":")
                match = next((i for i in found if i.platform == platform
                              and i.direct_chat_id == chat_id), None)
                self._chat[key] = (_recipient(match, match.user) if match
                                   else Recipient(key, None, None, None, False))

    async def resolve(self, tokens_: list[str]) -> tuple[list[Recipient], list[Unreachable]]:
        """Chats to write to, and who cannot be reached: people who never wrote to the bot,
        and chats that blocked it (`People.mark_unreachable`), whatever the audience kind."""
        found: dict[str, Recipient] = {}
        missing: list[Unreachable] = []
        for token in tokens_:
            recipients, unreachable = await self._one(token)
            for recipient in recipients:
                found.setdefault(recipient.chat_key, recipient)
            missing += [u for u in unreachable if u not in missing]
        blocked = await self.blocked_chats()
        missing += [Unreachable(r.name or r.chat_key, BLOCKED) for r in found.values()
                    if r.chat_key in blocked]
        return [r for r in found.values() if r.chat_key not in blocked], missing

    async def people(self, tokens_: list[str]) -> list[User]:
        """The people the tokens address (`all`: everyone; `chat:`: the person whose direct
        chat it is), in id order; for check-in rounds, which ask people, not chats."""
        found: dict[int, User] = {}
        for token in tokens_:
            for user in await self._people_of(token, chats_as_people=True):
                found[user.id] = user
        return [found[key] for key in sorted(found)]

    async def blocked_chats(self) -> set[str]:
        """Read once per resolver: a run resolving a thousand schedules asks once."""
        if self._blocked is None:
            self._blocked = set(await self.session.scalars(select(KnownChat.key).where(
                KnownChat.unreachable_since.is_not(None))))
        return self._blocked

    async def _one(self, token: str) -> tuple[list[Recipient], list[Unreachable]]:
        kind, _sep, value = token.partition(":")
        if kind == "chat":
            return [await self.chat(value)], []
        if token == "all":  # blocked chats are left out (and reported) by `resolve`
            chats = await self.session.scalars(select(KnownChat.key).order_by(KnownChat.key))
            return [await self.chat(key) for key in chats], []
        found, missing = [], []
        for user in await self._people_of(token):
            recipient = await self.direct(user)
            if recipient is None:
                missing.append(Unreachable(user.display_name, NO_DIRECT_CHAT))
            else:
                found.append(recipient)
        return found, missing

    async def _people_of(self, token: str, chats_as_people: bool = False) -> list[User]:
        """The people of one token; `a&b` is the people in both."""
        chosen: dict[int, User] | None = None
        for part in token.split("&"):
            users = {user.id: user for user in await self._people_one(part, chats_as_people)}
            chosen = users if chosen is None else {k: v for k, v in chosen.items() if k in users}
        return sorted((chosen or {}).values(), key=lambda user: user.id)

    async def _people_one(self, part: str, chats_as_people: bool) -> list[User]:
        kind, _sep, value = part.partition(":")
        if part == "all":
            return list(await self.session.scalars(select(User)))
        if kind == "user" and value.isdecimal():
            user = await self.session.get(User, int(value))
            return [user] if user is not None else []
        if kind == "role":
            return list(await self.session.scalars(select(User).where(User.role_code == value)))
        if kind == "org":
            return list(await self.session.scalars(select(User).where(
                or_(User.organisation_id == value, User.entry_id == value))))
        if kind == "area":
            return await self._in_area(value)
        if kind == "chat" and chats_as_people:
            recipient = await self.chat(value)
            user = await self.session.get(User, recipient.user_id) if recipient.user_id else None
            return [user] if user is not None else []
        return []

    async def _in_area(self, area: str) -> list[User]:
        placed = await self._placed_users()
        users = {user.id: user for user, entry in placed
                 if self.directory.entry_in_place(entry, area)}
        if self.place_fallback is not None:
            more = await self.place_fallback(area, {user.id for user, _entry in placed})
            more -= set(users)
            if more:
                users.update({u.id: u for u in await self.session.scalars(
                    select(User).where(User.id.in_(more)))})
        return list(users.values())

    async def _placed_users(self) -> list[tuple[User, str]]:
        """People linked to a directory entry, with the entry that places them (once per
        resolver: a run addressing several areas reads them once)."""
        if self._placed is None:
            self._placed = []
            if self.directory is not None:
                linked = await self.session.scalars(select(User).where(or_(
                    User.entry_id.is_not(None), User.organisation_id.is_not(None)))
                    .order_by(User.id))
                for user in linked:
                    entry = self.directory.home_entry(user.entry_id, user.organisation_id)
                    if entry is not None:
                        self._placed.append((user, entry))
        return self._placed

    async def direct(self, user: User) -> Recipient | None:
        if user.id not in self._direct:
            identity = await self.session.scalar(select(Identity).where(
                Identity.user_id == user.id, Identity.direct_chat_id.is_not(None))
                .order_by(Identity.id).limit(1))
            self._direct[user.id] = (_recipient(identity, user) if identity else None, user)
        return self._direct[user.id][0]

    async def chat(self, key: str) -> Recipient:
        if key not in self._chat:
            platform, _sep, chat_id = key.partition(":")
            identity = await self.session.scalar(select(Identity).where(
                Identity.platform == platform, Identity.direct_chat_id == chat_id)
                .order_by(Identity.id).limit(1))
            self._chat[key] = (_recipient(identity, identity.user, key) if identity
                               else Recipient(key, None, None, None, False))
        return self._chat[key]


def _recipient(identity: Identity, user: User, key: str | None = None) -> Recipient:
    return Recipient(key or f"{identity.platform}:{identity.direct_chat_id}", user.id,
                     user.locale, user.timezone, True, user.display_name)
