"""Focal points keep their own entry current (issue 18, section 3): the change log and its rules.

Every value a focal point changes in chat is one `DirectoryChange` row: the entry, the field,
the previous and the new value, who and when. With `directory_changes_need_approval` off (the
default) a change is live at once; on, it waits (`pending`) until a coordinator approves it.
Coordinators get one digest a day of the changes made since the last one (through the outbox,
key per coordinator and last change, so it is sent once), and may revert a live change: the
field gets its previous value back, if no later change of that field came since.

Saving changes counts as the focal point's confirmation: the entry is verified today and a
pending "needs changes" request is cleared. No chat code here."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Integer, String, Text, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.config import Settings
from bot.db import Base, Database, UTCDateTime
from bot.directory.fields import AVAILABILITY, field_label, value_text
from bot.directory.models import DirectoryEntry, utcnow
from bot.directory.records import EntryRecord, SERVICE_LANGUAGES
from bot.i18n import Catalogues, _, ngettext
from bot.markup import bold, escape
from bot.messages import ChatRef, Reply, command_prefix
from bot.outbox import Outbox
from bot.people import Identity, User
from bot.policy import Role

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.directory.service import DirectoryService

log = logging.getLogger("coordbot.directory")

LIVE, PENDING, REVERTED, REJECTED = "live", "pending", "reverted", "rejected"
DIGEST_JOB_ID = "directory.changes_digest"
DIGEST_HOUR = 8                      # local time of the daily digest
SEARCHED_FIELDS = {"languages", *(f"service_{lang}" for lang in SERVICE_LANGUAGES)}
SOURCED_FIELDS = {"phone", "email", "address", "hours"}
COLUMN_FIELDS = ("phone", "email", "address")
ATTRIBUTE_FIELDS = ("hours", AVAILABILITY, *(f"service_{lang}" for lang in SERVICE_LANGUAGES))


class DirectoryChange(Base):
    __tablename__ = "directory_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # No foreign key: the history outlives an entry that an import replaced.
    entry_id: Mapped[str] = mapped_column(String(100), index=True)
    field: Mapped[str] = mapped_column(String(30))
    old_value: Mapped[str] = mapped_column(Text, default="")
    new_value: Mapped[str] = mapped_column(Text, default="")
    changed_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status: Mapped[str] = mapped_column(String(10), default=LIVE)
    decided_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # When the change went into the coordinators' daily digest (None: not yet).
    digested_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


# ---- reading and writing one field of an entry ----------------------------------------------
def field_value(entry: DirectoryEntry, field: str) -> str:
    """The stored value of an editable field, as text (languages `;`-joined)."""
    if field in COLUMN_FIELDS:
        return getattr(entry, field) or ""
    if field == "languages":
        return ";".join(entry.languages or ())
    return str((entry.attributes or {}).get(field, ""))


def set_field(entry: DirectoryEntry, field: str, value: str) -> None:
    if field in COLUMN_FIELDS:
        setattr(entry, field, value)
    elif field == "languages":
        entry.languages = [code for code in value.split(";") if code]
    elif field in ATTRIBUTE_FIELDS:
        attributes = dict(entry.attributes or {})  # a new dict: JSON columns track assignment
        if value:
            attributes[field] = value
        else:
            attributes.pop(field, None)
        entry.attributes = attributes
    else:
        raise ValueError(f"not an editable field: {field}")


def _with_chat_source(entry: DirectoryEntry, day: str) -> None:
    """The format's rule: a value a focal point gave in chat has `chat:DATE` as its source."""
    attributes = dict(entry.attributes or {})
    sources = [s for s in attributes.get("source", "").split(";")
               if s and not s.startswith("chat:")]
    attributes["source"] = ";".join(sources + [f"chat:{day}"])
    entry.attributes = attributes


@dataclass(frozen=True)
class Outcome:
    record: EntryRecord | None
    changes: list[DirectoryChange]
    live: bool
    searched: bool  # a field the search reads changed: the index must be rebuilt

    @property
    def nothing(self) -> bool:
        return not self.changes


class ChangeLog:
    def __init__(self, directory: DirectoryService, *, db: Database, clock: Clock,
                 outbox: Outbox, catalogues: Catalogues, settings: Settings) -> None:
        self.directory = directory
        self.db = db
        self.clock = clock
        self.outbox = outbox
        self.catalogues = catalogues
        self.settings = settings

    @property
    def need_approval(self) -> bool:
        return bool(getattr(self.settings, "directory_changes_need_approval", False))

    def _now(self) -> datetime:
        return self.clock.now()

    # ---- who edits what --------------------------------------------------------------------
    async def entries_of(self, session: AsyncSession, user: User) -> list[str]:
        """The entries this person is the focal point of: the one they are linked to, and
        those whose Matrix id or Telegram username is one of theirs."""
        found = [user.entry_id] if user.entry_id else []
        identities = await session.scalars(select(Identity).where(Identity.user_id == user.id))
        matrix, telegram = set(), set()
        for identity in identities:
            if identity.platform == "matrix":
                matrix.add(identity.platform_user_id)
            elif identity.platform == "telegram" and identity.username:
                telegram.add(identity.username.lower())
        if matrix or telegram:
            for entry in (await session.scalars(select(DirectoryEntry).order_by(
                    DirectoryEntry.id))).unique():
                handle = (entry.telegram or "").strip().lstrip("@").lower()
                if (entry.matrix or "").strip() in matrix or (handle and handle in telegram):
                    found.append(entry.id)
        return [e for e in dict.fromkeys(found) if self.directory.index.get(e) is not None]

    async def may_edit(self, session: AsyncSession, user: User, entry_id: str) -> bool:
        return entry_id in await self.entries_of(session, user)

    # ---- saving a focal point's changes ----------------------------------------------------
    async def submit(self, session: AsyncSession, user: User, entry_id: str,
                     values: dict[str, str]) -> Outcome:
        """Records the values that differ from the entry; live at once unless approval is
        required. Nothing is written when nothing differs."""
        entry = await session.get(DirectoryEntry, entry_id)
        if entry is None:
            return Outcome(None, [], False, False)
        now, live = self._now(), not self.need_approval
        changes = []
        for field, value in values.items():
            old = field_value(entry, field)
            if old == value:
                continue
            change = DirectoryChange(entry_id=entry_id, field=field, old_value=old,
                                     new_value=value, changed_by=user.id, changed_at=now,
                                     status=LIVE if live else PENDING)
            session.add(change)
            changes.append(change)
            if live:
                set_field(entry, field, value)
        if live:
            self._verified(entry, changes, now)
        await session.flush()
        searched = live and any(c.field in SEARCHED_FIELDS for c in changes)
        return Outcome(entry.to_record(), changes, live, searched)

    def _verified(self, entry: DirectoryEntry, changes: list[DirectoryChange],
                  now: datetime) -> None:
        """Saving (even with nothing changed) confirms the entry as of today."""
        entry.last_verified = now.date()
        entry.changes_requested_at = None
        entry.updated_at = now
        if any(c.field in SOURCED_FIELDS and c.new_value for c in changes):
            _with_chat_source(entry, now.date().isoformat())

    # ---- coordinators: approve, reject, revert -----------------------------------------------
    async def recently_changed(self, session: AsyncSession,
                               limit: int = 20) -> list[tuple[str, datetime]]:
        """(entry id, when) of the entries changed last, by anyone or any import."""
        rows = await session.execute(
            select(DirectoryEntry.id, DirectoryEntry.updated_at)
            .order_by(DirectoryEntry.updated_at.desc(), DirectoryEntry.id).limit(limit))
        return [(entry_id, at) for entry_id, at in rows]

    async def pending(self, session: AsyncSession, entry_id: str | None = None
                      ) -> list[DirectoryChange]:
        query = select(DirectoryChange).where(DirectoryChange.status == PENDING)
        if entry_id:
            query = query.where(DirectoryChange.entry_id == entry_id)
        return list(await session.scalars(query.order_by(DirectoryChange.id)))

    async def decide(self, session: AsyncSession, coordinator: User, entry_id: str,
                     approve: bool) -> Outcome:
        """Approves (applies, in the order made) or rejects the entry's pending changes."""
        waiting = await self.pending(session, entry_id)
        entry = await session.get(DirectoryEntry, entry_id)
        if not waiting or entry is None:
            return Outcome(None, [], False, False)
        now = self._now()
        for change in waiting:
            change.decided_by, change.decided_at = coordinator.id, now
            if approve:
                change.old_value = field_value(entry, change.field)  # what it replaces now
                set_field(entry, change.field, change.new_value)
                change.status = LIVE
            else:
                change.status = REJECTED
        if approve:
            self._verified(entry, waiting, now)
        await session.flush()
        record = entry.to_record()
        await self._tell_submitters(session, waiting, record, approve)
        searched = approve and any(c.field in SEARCHED_FIELDS for c in waiting)
        return Outcome(record, waiting, approve, searched)

    async def _tell_submitters(self, session: AsyncSession, decided: list[DirectoryChange],
                               record: EntryRecord, approved: bool) -> None:
        """The focal points whose changes were decided learn it in their direct chat."""
        for user_id in {c.changed_by for c in decided if c.changed_by is not None}:
            user = await session.get(User, user_id)
            identity = await session.scalar(select(Identity).where(
                Identity.user_id == user_id, Identity.direct_chat_id.is_not(None))
                .order_by(Identity.id).limit(1))
            if user is None or identity is None or identity.direct_chat_id is None:
                continue
            with self.catalogues.use(user.locale or self.settings.default_locale):
                text = (_("A coordinator approved your changes to {name}: they are live.")
                        if approved else
                        _("A coordinator did not accept your changes to {name}; the entry is "
                          "unchanged. Ask your coordinator why if you need to."))
            await self.outbox.enqueue(
                session, ChatRef(identity.platform, identity.direct_chat_id),
                Reply(text.format(name=bold(record.organisation))),
                f"dirchange-decided:{decided[0].id}:{user_id}", source=f"directory:{record.id}")

    async def revert(self, session: AsyncSession, coordinator: User,
                     change_id: int) -> tuple[str, Outcome | None, DirectoryChange | None]:
        """("ok", outcome, change), or a refusal: "unknown", "not_live", "superseded"
        (a later change of the same field is live: revert that one first), "no_entry"."""
        change = await session.get(DirectoryChange, change_id)
        if change is None:
            return "unknown", None, None
        if change.status != LIVE:
            return "not_live", None, change
        later = await session.scalar(select(DirectoryChange.id).where(
            DirectoryChange.entry_id == change.entry_id, DirectoryChange.field == change.field,
            DirectoryChange.status == LIVE, DirectoryChange.id > change.id).limit(1))
        if later is not None:
            return "superseded", None, change
        entry = await session.get(DirectoryEntry, change.entry_id)
        if entry is None:
            return "no_entry", None, change
        set_field(entry, change.field, change.old_value)
        entry.updated_at = change.decided_at = self._now()
        change.status, change.decided_by = REVERTED, coordinator.id
        await session.flush()
        return "ok", Outcome(entry.to_record(), [change], True,
                             change.field in SEARCHED_FIELDS), change

    # ---- reading the history -----------------------------------------------------------------
    async def last_focal_update(self, session: AsyncSession, entry_id: str) -> datetime | None:
        """When the entry's focal point last changed it (a live change)."""
        return await session.scalar(select(func.max(DirectoryChange.changed_at)).where(
            DirectoryChange.entry_id == entry_id, DirectoryChange.status == LIVE))

    async def recent(self, session: AsyncSession, days: int = 14,
                     entry_id: str | None = None) -> list[DirectoryChange]:
        """Pending changes and those made in the last `days` days, newest first."""
        since = self._now() - timedelta(days=days)
        query = select(DirectoryChange).where(
            (DirectoryChange.changed_at >= since) | (DirectoryChange.status == PENDING))
        if entry_id:
            query = query.where(DirectoryChange.entry_id == entry_id)
        return list(await session.scalars(query.order_by(DirectoryChange.id.desc())))

    async def names(self, session: AsyncSession, user_ids) -> dict[int, str]:
        ids = {i for i in user_ids if i is not None}
        if not ids:
            return {}
        rows = await session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
        return dict(rows.all())

    # ---- the coordinators' daily digest -------------------------------------------------------
    async def run_digest(self) -> int:
        """Queues, for every coordinator with a direct chat, one message listing the changes
        not yet in a digest; returns how many coordinators it was queued for."""
        async with self.db.transaction() as session:
            changes = list(await session.scalars(select(DirectoryChange).where(
                DirectoryChange.digested_at.is_(None)).order_by(DirectoryChange.id)))
            if not changes:
                return 0
            names = await self.names(session, [c.changed_by for c in changes])
            queued = 0
            for user, chat in await self._coordinator_chats(session):
                locale = user.locale or self.settings.default_locale
                with self.catalogues.use(locale):
                    reply = self.render_digest(changes, names, chat.platform)
                key = f"dirchanges:{user.id}:{changes[-1].id}"
                if await self.outbox.enqueue(session, chat, reply, key,
                                                 source="directory:changes"):
                    queued += 1
            for change in changes:
                change.digested_at = self._now()
        log.info("directory changes digest", extra={"fields": {
            "changes": len(changes), "coordinators": queued}})
        return queued

    async def _coordinator_chats(self, session: AsyncSession) -> list[tuple[User, ChatRef]]:
        roles = [r.code for r in Role if r >= Role.COORDINATOR]
        found: dict[int, tuple[User, ChatRef]] = {}
        rows = await session.scalars(select(Identity).join(User).where(
            User.role_code.in_(roles), Identity.direct_chat_id.is_not(None))
            .order_by(Identity.id))
        for identity in rows:
            if identity.direct_chat_id is not None:  # the query asks for it; for the types
                found.setdefault(identity.user_id, (identity.user, ChatRef(
                    identity.platform, identity.direct_chat_id)))
        return list(found.values())

    def render_digest(self, changes: list[DirectoryChange], names: dict[int, str],
                      platform: str) -> Reply:
        """The digest in the current language (the caller chose the coordinator's)."""
        prefix = command_prefix(platform)
        index = self.directory.index
        lines = [ngettext("{n} change to the directory by focal points since the last summary:",
                          "{n} changes to the directory by focal points since the last summary:",
                          len(changes)).format(n=len(changes))]
        for change in changes:
            record = index.get(change.entry_id)
            lines.append(describe_change(change, record.organisation if record else "",
                                         names.get(change.changed_by or 0, "")))
        if any(c.status == LIVE for c in changes):
            lines.append(_("To undo one: {prefix}revert NUMBER.").format(prefix=prefix))
        if any(c.status == PENDING for c in changes):
            lines.append(_("Waiting for your approval: {prefix}approve ENTRY or {prefix}reject "
                           "ENTRY ({prefix}changes lists them).").format(prefix=prefix))
        return Reply("\n".join(lines))


def describe_change(change: DirectoryChange, organisation: str, who: str) -> str:
    """"#12 `cpas-x` CPAS X — Phone: (empty) → +32 …, by Luc on 2026-03-02 (waiting)"."""
    status = {LIVE: "", PENDING: _("waiting for approval"), REVERTED: _("reverted"),
              REJECTED: _("rejected")}[change.status]
    text = _("{field}: {old} → {new}").format(
        field=field_label(change.field), old=escape(value_text(change.field, change.old_value)),
        new=escape(value_text(change.field, change.new_value)))
    line = f"#{change.id} `{change.entry_id}` {escape(organisation)} — {text}, " + _(
        "by {name} on {date}").format(name=escape(who or _("a former user")),
                                      date=change.changed_at.date().isoformat())
    return line + (f" ({status})" if status else "")
