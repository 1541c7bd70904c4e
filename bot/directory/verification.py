"""Keeping the directory current: every `directory_verify_every_days` (default 90) each active
entry's focal point is asked, in a direct chat, whether the entry is still correct.

The focal point of an entry is a person linked to it (User.entry_id), or failing that the
person whose Matrix id or Telegram username is the entry's `matrix`/`telegram` column, once
they have written to the bot (a direct chat is needed). The question goes through the outbox
with a key per entry and period, in the same transaction that marks the entry as asked, so a
crash or a second bot process never asks twice. Answers: "Still correct" confirms (the entry is
verified today), "Needs changes" records the request, which `/stale` lists for coordinators.

`run_due()` is the due work; the scheduler calls it (job id `directory.verification`) and
tests call it directly with a FakeClock."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.conversations import Conversations
from bot.db import Database
from bot.directory.models import DirectoryEntry
from bot.directory.records import EntryRecord
from bot.i18n import Catalogues, _
from bot.markup import bold, escape
from bot.messages import ChatRef, Choice, Reply, command_prefix
from bot.outbox import Outbox, OutboxMessage
from bot.people import Identity, User

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.directory.service import DirectoryService

log = logging.getLogger("coordbot.directory")

ANSWER_KIND = "directory.verify"   # pending conversation: `1`/`2` answer the oldest question
CONFIRM, CHANGES = "ok", "changes"
MAX_PER_RUN = 500                  # entries asked per run; the rest wait for the next run
JOB_ID = "directory.verification"


@dataclass(frozen=True)
class FocalPoint:
    user: User
    chat_key: str


@dataclass(frozen=True)
class Answered:
    """An answer recorded: the entry as it now is, and whether its focal point gave it (a
    coordinator answering for them is audited)."""

    record: EntryRecord
    by_focal_point: bool


def period_of(day: date, every_days: int) -> int:
    """The number of the verification period `day` falls in: part of the outbox key, so an
    entry is asked at most once per period whatever happens."""
    return day.toordinal() // every_days


def answer_value(entry_id: str, answer: str, prefix: str = "/") -> str:
    return f"{prefix}verify {entry_id} {answer}"


def question(record: EntryRecord, prefix: str = "/") -> Reply:
    """The question, in the current language (the caller chose the focal point's)."""
    lines = [_("Is your directory entry still correct?"),
             f"{bold(record.organisation)} (`{record.id}`)"]
    if record.service:
        lines.append(escape(record.service))
    lines.append(_("Last verified: {date}.").format(
        date=record.last_verified.isoformat() if record.last_verified else _("never")))
    lines.append(_("Send {prefix}entry {id} to see it in full.").format(prefix=prefix,
                                                                       id=record.id))
    choices = [Choice(_("Still correct"), answer_value(record.id, CONFIRM, prefix)),
               Choice(_("Needs changes"), answer_value(record.id, CHANGES, prefix))]
    return Reply("\n".join(lines), choices)


class Verification:
    def __init__(self, directory: DirectoryService, *, db: Database, clock: Clock,
                 outbox: Outbox, conversations: Conversations, catalogues: Catalogues,
                 settings: Settings) -> None:
        self.directory = directory
        self.db = db
        self.clock = clock
        self.outbox = outbox
        self.conversations = conversations
        self.catalogues = catalogues
        self.settings = settings

    @property
    def every_days(self) -> int:
        return self.settings.directory_verify_every_days

    async def run_due(self) -> int:
        """Asks every focal point whose entry is due; returns how many were asked. Entries
        whose focal point cannot be reached yet are asked on a later run."""
        async with self.db.transaction() as session:
            linked = await self.linked_entries(session)
            due = await self.directory.due_for_verification(session, self.every_days,
                                                            set(linked))
            asked = unreachable = 0
            for entry in due[:MAX_PER_RUN]:
                focal = await self.focal_point(session, entry, linked.get(entry.id, []))
                if focal is None:
                    unreachable += 1
                    continue
                if await self._ask(session, entry, focal):
                    asked += 1
                await self.directory.mark_asked(session, entry.id)
        if due:
            log.info("directory verification", extra={"fields": {
                "due": len(due), "asked": asked, "unreachable": unreachable}})
        return asked

    async def linked_entries(self, session: AsyncSession) -> dict[str, list[User]]:
        linked: dict[str, list[User]] = {}
        for user in await session.scalars(select(User).where(User.entry_id.is_not(None))
                                          .order_by(User.id)):
            if user.entry_id is not None:
                linked.setdefault(user.entry_id, []).append(user)
        return linked

    async def focal_point(self, session: AsyncSession, entry: DirectoryEntry,
                          linked: list[User]) -> FocalPoint | None:
        for user in linked:
            identity = await session.scalar(select(Identity).where(
                Identity.user_id == user.id, Identity.direct_chat_id.is_not(None))
                .order_by(Identity.id).limit(1))
            if identity is not None and identity.direct_chat_id is not None:
                return FocalPoint(user, ChatRef(identity.platform, identity.direct_chat_id).key())
        for identity in await self._handle_identities(session, entry):
            if identity.direct_chat_id:
                return FocalPoint(identity.user,
                                  ChatRef(identity.platform, identity.direct_chat_id).key())
        return None

    @staticmethod
    async def _handle_identities(session: AsyncSession, entry: DirectoryEntry) -> list[Identity]:
        found: list[Identity] = []
        if entry.matrix:
            found += await session.scalars(select(Identity).where(
                Identity.platform == "matrix", Identity.platform_user_id == entry.matrix.strip()))
        username = (entry.telegram or "").strip().lstrip("@").lower()
        if username:
            found += await session.scalars(select(Identity).where(
                Identity.platform == "telegram", func.lower(Identity.username) == username))
        return found

    async def _ask(self, session: AsyncSession, entry: DirectoryEntry, focal: FocalPoint) -> bool:
        chat = ChatRef.parse(focal.chat_key)
        prefix = command_prefix(chat.platform)
        locale = focal.user.locale or self.settings.default_locale
        with self.catalogues.use(locale):
            reply = question(entry.to_record(), prefix)
        key = f"dirverify:{entry.id}:{period_of(self.directory.today(), self.every_days)}"
        queued = await self.outbox.enqueue(session, chat, reply, key,
                                               source=f"directory:{entry.id}")
        if queued:
            await self._offer_numbered_answer(session, focal, entry.id)
        return queued

    async def _offer_numbered_answer(self, session: AsyncSession, focal: FocalPoint,
                                     entry_id: str) -> None:
        """On the console and Matrix people answer by number: a pending conversation lets `1`
        answer the oldest open question. Never displaces another kind of conversation."""
        conversations = self.conversations
        pending = await conversations.current(session, focal.chat_key, focal.user.id)
        if pending is not None and pending.kind != ANSWER_KIND:
            return
        entries = list(pending.payload.get("entries", [])) if pending is not None else []
        if entry_id not in entries:
            entries.append(entry_id)
        await conversations.start(session, focal.chat_key, focal.user.id, ANSWER_KIND,
                                  {"entries": entries}, ttl=timedelta(days=14))

    # ---- answers ---------------------------------------------------------------------------
    async def record_answer(self, session: AsyncSession, user: User, entry_id: str,
                            answer: str, *, coordinator: bool) -> Answered | None:
        """`CONFIRM`: the entry is verified today; `CHANGES`: the request is kept until it is
        confirmed. Only its focal point or a coordinator answers for an entry: None for
        anyone else, or when there is no such entry."""
        mine = await self.may_answer(session, user, entry_id)
        if not (mine or coordinator):
            return None
        if answer == CONFIRM:
            record = await self.directory.confirm(session, entry_id)
        else:
            record = await self.directory.request_changes(session, entry_id)
        return Answered(record, mine) if record is not None else None

    async def may_answer(self, session: AsyncSession, user: User, entry_id: str) -> bool:
        """The entry's focal point, known by ids only: linked to the entry (an invitation set
        it), the owner of the entry's Matrix id (Matrix ids never change hands), or the person
        the bot itself asked in this period. A Telegram username is not enough: its owner can
        give it up and someone else take it."""
        if user.entry_id == entry_id:
            return True
        entry = await session.get(DirectoryEntry, entry_id)
        if entry is None:
            return False
        identities = list(await session.scalars(select(Identity).where(
            Identity.user_id == user.id)))
        if entry.matrix and any(i.platform == "matrix" and i.platform_user_id ==
                                entry.matrix.strip() for i in identities):
            return True
        return await self._was_asked(session, entry_id, identities)

    async def _was_asked(self, session: AsyncSession, entry_id: str,
                         identities: list[Identity]) -> bool:
        chats = [ChatRef(i.platform, i.direct_chat_id).key() for i in identities
                 if i.direct_chat_id]
        if not chats:
            return False
        since = self.clock.now() - timedelta(days=self.every_days)
        found = await session.scalar(select(OutboxMessage.id).where(
            OutboxMessage.source == f"directory:{entry_id}", OutboxMessage.chat_key.in_(chats),
            OutboxMessage.created_at >= since).limit(1))
        return found is not None
