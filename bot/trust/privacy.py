"""Everything stored about a person, in one place: a registry of personal-data sources.

The core registers the tables it owns (users, identities, chats, conversations, outbox, audit,
invitations). A feature that stores data about people registers its own source at build time:

    services.trust.privacy.register("reminders", export_reminders, erase_reminders,
                                    reassign_reminders)

- `export(session, user)` returns anything JSON-serialisable (dicts, lists, str, numbers,
  datetimes); `/mydata` puts it under the source's name.
- `erase(session, user)` deletes or anonymises the person's data; run by `/forget`, features
  first (in reverse order of registration), the core last.
- `reassign(session, from_user_id, to_user_id)` (optional) moves data when a person links a
  second chat identity and their old, now empty, account is merged into their main one.

`holdings(session, user)` counts, from the features' exports, what a merge would move (every
non-empty list of a feature's section, e.g. `reminders.schedules: 2`), so that the person is
told before confirming a link.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from collections.abc import Awaitable, Callable

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.conversations import PendingConversation
from bot.outbox import OutboxMessage
from bot.people import Identity, KnownChat, User
from bot.policy import Role
from bot.trust import audit
from bot.trust.models import LINK, Invitation, RegistrationFailure

ExportFn = Callable[[AsyncSession, User], Awaitable[Any]]
EraseFn = Callable[[AsyncSession, User], Awaitable[None]]
ReassignFn = Callable[[AsyncSession, int, int], Awaitable[None]]
FORMAT = "coordbot-personal-data/1"
# Not "data that moves" in a merge: short-lived search context (the entry link is part of the
# account's registration, which ends with it).
NOT_HOLDINGS = {"directory.last_questions", "directory.linked_entry"}


@dataclass(frozen=True)
class PersonalDataSource:
    name: str
    export: ExportFn
    erase: EraseFn
    reassign: ReassignFn | None = None


class Privacy:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.sources: dict[str, PersonalDataSource] = {}

    def register(self, name: str, export: ExportFn, erase: EraseFn,
                 reassign: ReassignFn | None = None) -> None:
        if name in self.sources:
            raise ValueError(f"personal-data source {name!r} registered twice")
        self.sources[name] = PersonalDataSource(name, export, erase, reassign)

    async def export(self, session: AsyncSession, user: User) -> dict:
        sections = {name: await source.export(session, user)
                    for name, source in self.sources.items()}
        return {"format": FORMAT, "exported_at": self.clock.now(), "user_id": user.id,
                "sections": sections}

    async def export_json(self, session: AsyncSession, user: User) -> bytes:
        data = await self.export(session, user)
        return json.dumps(data, default=_jsonable, ensure_ascii=False, indent=2).encode("utf-8")

    async def holdings(self, session: AsyncSession, user: User) -> dict[str, int]:
        """`{"reminders.schedules": 2, "checkins.assignments": 1}`: the person's own items per
        feature (the core's account rows excepted). A feature added later counts by itself."""
        counts: dict[str, int] = {}
        for name, source in self.sources.items():
            section = await source.export(session, user) if name != "core" else None
            for key, value in (section.items() if isinstance(section, dict) else ()):
                kind = f"{name}.{key}"
                if isinstance(value, (list, tuple)) and value and kind not in NOT_HOLDINGS:
                    counts[kind] = len(value)
        return counts

    async def erase(self, session: AsyncSession, user: User) -> None:
        user_id = user.id
        for source in reversed(list(self.sources.values())):
            await source.erase(session, user)
        await audit.record(session, user_id, "privacy.forget", audit.user_target(user_id),
                           {"sources": list(self.sources)}, at=self.clock.now())
        await session.flush()

    async def reassign(self, session: AsyncSession, from_user_id: int, to_user_id: int) -> None:
        for source in self.sources.values():
            if source.reassign is not None:
                await source.reassign(session, from_user_id, to_user_id)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def row_dict(row: object, *columns: str) -> dict[str, Any]:
    return {column: getattr(row, column) for column in columns}


async def direct_chat_keys(session: AsyncSession, user_id: int) -> list[str]:
    identities = await session.scalars(select(Identity).where(Identity.user_id == user_id))
    return [f"{i.platform}:{i.direct_chat_id}" for i in identities if i.direct_chat_id]


async def export_core(session: AsyncSession, user: User) -> dict:
    """The core tables: account, identities, direct chats, pending conversations, messages
    queued to the person's direct chats, audit entries and codes about them."""
    identities = list(await session.scalars(
        select(Identity).where(Identity.user_id == user.id).order_by(Identity.id)))
    chat_keys = await direct_chat_keys(session, user.id)
    identity_keys = [i.key for i in identities]
    chats = await session.scalars(select(KnownChat).where(KnownChat.key.in_(chat_keys)))
    conversations = await session.scalars(select(PendingConversation).where(
        PendingConversation.user_id == user.id).order_by(PendingConversation.id))
    outbox = await session.scalars(select(OutboxMessage).where(
        OutboxMessage.chat_key.in_(chat_keys)).order_by(OutboxMessage.id))
    failures = await session.scalars(select(RegistrationFailure).where(
        RegistrationFailure.identity.in_(identity_keys)).order_by(RegistrationFailure.id))
    codes = await session.scalars(select(Invitation).where(or_(
        Invitation.created_by == user.id, Invitation.used_by == user.id,
        Invitation.user_id == user.id)).order_by(Invitation.id))
    return {
        "user": row_dict(user, "id", "display_name", "role_code", "locale", "timezone",
                         "organisation_id", "entry_id", "created_at"),
        "identities": [row_dict(i, "id", "platform", "platform_user_id", "username",
                                "direct_chat_id") for i in identities],
        "direct_chats": [row_dict(c, "key", "platform", "last_seen", "unreachable_since")
                         for c in chats],
        "pending_conversations": [row_dict(c, "id", "chat_key", "kind", "payload",
                                           "created_at", "expires_at") for c in conversations],
        "messages_sent_to_you": [row_dict(m, "id", "chat_key", "text", "status", "created_at",
                                          "sent_at", "source") for m in outbox],
        "wrong_codes_sent": [row_dict(f, "identity", "at") for f in failures],
        "codes": [row_dict(c, "id", "kind", "role", "organisation_id", "entry_id",
                           "created_by", "created_at", "expires_at", "used_at", "used_by")
                  for c in codes],
        "audit_entries": [row_dict(e, "id", "at", "actor_user_id", "action", "target",
                                   "details") for e in await audit.about_user(session, user.id)],
    }


async def erase_core(session: AsyncSession, user: User) -> None:
    """Deletes the person's identities, direct chats, conversations, messages to them and
    unused link codes, and blanks the account row. The row itself stays, nameless, so that
    anonymous aggregates and audit entries keep a meaningless id to point to."""
    chat_keys = await direct_chat_keys(session, user.id)
    identity_keys = [f"{i.platform}:{i.platform_user_id}" for i in await session.scalars(
        select(Identity).where(Identity.user_id == user.id))]
    await session.execute(delete(OutboxMessage).where(OutboxMessage.chat_key.in_(chat_keys)))
    await session.execute(delete(KnownChat).where(KnownChat.key.in_(chat_keys)))
    await session.execute(delete(PendingConversation).where(
        PendingConversation.user_id == user.id))
    await session.execute(delete(RegistrationFailure).where(
        RegistrationFailure.identity.in_(identity_keys)))
    await session.execute(delete(Invitation).where(Invitation.kind == LINK,
                                                   Invitation.user_id == user.id))
    await session.execute(delete(Identity).where(Identity.user_id == user.id))
    await session.execute(update(User).where(User.id == user.id).values(
        display_name="", role_code=Role.GUEST.code, locale=None, entry_id=None,
        organisation_id=None))
    await session.flush()
    session.expire(user)


async def reassign_core(session: AsyncSession, from_user_id: int, to_user_id: int) -> None:
    """Pending conversations are short-lived and keyed by person: the old ones are dropped."""
    await session.execute(delete(PendingConversation).where(
        PendingConversation.user_id == from_user_id))
