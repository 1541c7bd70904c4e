"""Audiences: who a reminder or a broadcast goes to.

Written by people as `here`, `all`, `role:focal_point`, `org:ID`, `area:CODE`, `@name`
(comma-separated); stored as tokens (`chat:KEY`, `all`, `role:CODE`, `org:ID`, `area:CODE`,
`user:ID`) and resolved to chats only when a message is sent, so that someone who gets a role
later is included in the next occurrence.

Areas are answered by the directory (`services.directory`, passed in as `areas`): a person is
in area X when the directory entry they stand for lies in X (see DirectoryService.home_entry
and entry_within). This module never imports the directory package."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import _
from bot.people import Identity, KnownChat, People, User
from bot.policy import Role


class AudienceError(ValueError):
    """The audience cannot be used; `str(error)` is the translated explanation."""


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


async def parse_audience(session: AsyncSession, people: People, text: str, *,
                         origin_chat: str, platform: str, areas: Any = None) -> list[str]:
    """Reads the AUDIENCE part of a command into stored tokens, checking every name. `areas`
    is the directory service (None when the directory is not available)."""
    tokens: list[str] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        token = await _token(session, people, item, origin_chat, platform, areas)
        if token not in tokens:
            tokens.append(token)
    if not tokens:
        raise AudienceError(_("The audience is empty. Use here, all, role:ROLE, org:ID or @name."))
    return tokens


async def _token(session: AsyncSession, people: People, item: str, origin_chat: str,
                 platform: str, areas: Any) -> str:
    lowered = item.lower()
    if lowered in {"here", "ici", "hier", "тут"}:
        return f"chat:{origin_chat}"
    if lowered in {"all", "tous", "alle", "всі"}:
        return "all"
    kind, _sep, value = item.partition(":")
    kind = kind.lower()
    if kind == "role" and value:
        role = Role.parse(value)
        if role is None:
            raise AudienceError(_("Unknown role \"{role}\". Roles: {roles}.").format(
                role=value[:30], roles=", ".join(r.code for r in Role)))
        return f"role:{role.code}"
    if kind == "org" and value:
        return f"org:{value.strip()[:100]}"
    if kind == "area" and value:
        code = areas.area_code(value.strip()) if areas is not None else None
        if code is None:
            raise AudienceError(_("Unknown area code \"{code}\". Use BE, a region or province "
                                  "(BE-WAL, BE-VOV), a Statbel NIS code (62063) or DG, FWB, "
                                  "VG.").format(code=value[:30]))
        return f"area:{code}"
    if item.startswith("@") or kind in {"telegram", "matrix", "console"}:
        user = await people.find(session, item, platform)
        if user is None:
            raise AudienceError(_("I do not know {name}: they must write to me once "
                                  "first.").format(name=item[:80]))
        return f"user:{user.id}"
    raise AudienceError(_("I do not understand the audience \"{item}\". Use here, all, "
                          "role:ROLE, org:ID or @name, separated by commas.").format(item=item[:80]))


def only_self(tokens: list[str], user_id: int, own_chats: set[str]) -> bool:
    """True when every token addresses the person themselves (no permission needed)."""
    own = {f"user:{user_id}", *(f"chat:{key}" for key in own_chats)}
    return all(token in own for token in tokens)


class AudienceResolver:
    """Resolves tokens to chats. One per run: user and chat look-ups are cached, because a
    thousand reminders due at once mostly address the same few people and groups."""

    def __init__(self, session: AsyncSession, areas: Any = None):
        self.session = session
        self.areas = areas  # the directory service, for `area:` tokens
        self._direct: dict[int, tuple[Recipient | None, User]] = {}
        self._chat: dict[str, Recipient] = {}
        self._placed: list[tuple[User, str]] | None = None
        self._blocked: set[str] | None = None

    async def prefetch(self, token_lists: list[list[str]], user_ids: set[int]) -> None:
        """Loads, in three queries, the people and chats a batch of schedules addresses, so
        that resolving each schedule afterwards needs no round trip."""
        ids = set(user_ids)
        chat_keys = set()
        for tokens in token_lists:
            for token in tokens:
                kind, _sep, value = token.partition(":")
                if kind == "user" and value.isdecimal():
                    ids.add(int(value))
                elif kind == "chat":
                    chat_keys.add(value)
        identities: list[Identity] = []
        if ids:
            users = {u.id: u for u in await self.session.scalars(
                select(User).where(User.id.in_(ids)))}
            identities += list(await self.session.scalars(select(Identity).where(
                Identity.user_id.in_(ids), Identity.direct_chat_id.is_not(None))
                .order_by(Identity.id)))
            for user_id, user in users.items():
                mine = [i for i in identities if i.user_id == user_id]
                self._direct[user_id] = (self._recipient(mine[0], user) if mine else None, user)
        if chat_keys:
            chat_ids = {key.partition(":")[2] for key in chat_keys}
            found = list(await self.session.scalars(select(Identity).where(
                Identity.direct_chat_id.in_(chat_ids)).order_by(Identity.id)))
            for key in chat_keys:
                platform, _sep, chat_id = key.partition(":")
                match = next((i for i in found if i.platform == platform
                              and i.direct_chat_id == chat_id), None)
                self._chat[key] = (self._recipient(match, match.user) if match
                                   else Recipient(key, None, None, None, False))

    @staticmethod
    def _recipient(identity: Identity, user: User) -> Recipient:
        return Recipient(f"{identity.platform}:{identity.direct_chat_id}", user.id, user.locale,
                         user.timezone, True, user.display_name)

    async def resolve(self, tokens: list[str]) -> tuple[list[Recipient], list[Unreachable]]:
        """Chats to write to, and who cannot be reached: people who never wrote to the bot,
        and chats that blocked it (`People.mark_unreachable`), whatever the audience kind."""
        found: dict[str, Recipient] = {}
        missing: list[Unreachable] = []
        for token in tokens:
            recipients, unreachable = await self._one(token)
            for recipient in recipients:
                found.setdefault(recipient.chat_key, recipient)
            missing += unreachable
        blocked = await self.blocked_chats()
        missing += [Unreachable(r.name or r.chat_key, BLOCKED) for r in found.values()
                    if r.chat_key in blocked]
        return [r for r in found.values() if r.chat_key not in blocked], missing

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
        if kind == "all":  # blocked chats are left out (and reported) by `resolve`
            chats = await self.session.scalars(select(KnownChat.key).order_by(KnownChat.key))
            return [await self.chat(key) for key in chats], []
        if kind == "user":
            users = [await self.session.get(User, int(value))]
        elif kind == "role":
            users = list(await self.session.scalars(select(User).where(
                User.role_code == value).order_by(User.id)))
        elif kind == "org":
            users = list(await self.session.scalars(select(User).where(
                or_(User.organisation_id == value, User.entry_id == value)).order_by(User.id)))
        elif kind == "area":
            users = [user for user, entry in await self._placed_users()
                     if self.areas.entry_within(entry, value)]
        else:
            return [], []
        return await self._users([u for u in users if u is not None])

    async def _placed_users(self) -> list[tuple[User, str]]:
        """People linked to a directory entry, with the entry that places them (once per
        resolver: a run addressing several areas reads them once)."""
        if self._placed is None:
            self._placed = []
            if self.areas is not None:
                linked = await self.session.scalars(select(User).where(or_(
                    User.entry_id.is_not(None), User.organisation_id.is_not(None)))
                    .order_by(User.id))
                for user in linked:
                    entry = self.areas.home_entry(user.entry_id, user.organisation_id)
                    if entry is not None:
                        self._placed.append((user, entry))
        return self._placed

    async def _users(self, users: list[User]) -> tuple[list[Recipient], list[Unreachable]]:
        found, missing = [], []
        for user in users:
            recipient = await self.direct(user)
            if recipient is None:
                missing.append(Unreachable(user.display_name, NO_DIRECT_CHAT))
            else:
                found.append(recipient)
        return found, missing

    async def direct(self, user: User) -> Recipient | None:
        if user.id not in self._direct:
            identity = await self.session.scalar(select(Identity).where(
                Identity.user_id == user.id, Identity.direct_chat_id.is_not(None))
                .order_by(Identity.id).limit(1))
            recipient = None
            if identity is not None:
                recipient = Recipient(f"{identity.platform}:{identity.direct_chat_id}", user.id,
                                      user.locale, user.timezone, True, user.display_name)
            self._direct[user.id] = (recipient, user)
        return self._direct[user.id][0]

    async def chat(self, key: str) -> Recipient:
        if key not in self._chat:
            self._chat[key] = await self._describe_chat(key)
        return self._chat[key]

    async def _describe_chat(self, key: str) -> Recipient:
        platform, _sep, chat_id = key.partition(":")
        identity = await self.session.scalar(select(Identity).where(
            Identity.platform == platform, Identity.direct_chat_id == chat_id)
            .order_by(Identity.id).limit(1))
        if identity is None:
            return Recipient(key, None, None, None, False)
        user = identity.user
        return Recipient(key, user.id, user.locale, user.timezone, True, user.display_name)
