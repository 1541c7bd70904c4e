"""Broadcasts: one message to everyone an audience reaches, then a delivery report to the
sender once every copy is settled (sent, or failed for good)."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.audience import BLOCKED, NO_DIRECT_CHAT, AudienceResolver, Recipient
from bot.audience.resolver import Unreachable
from bot.config import Settings
from bot.db import Database
from bot.i18n import N_, Catalogues, _, ngettext
from bot.messages import ChatRef, Reply
from bot.outbox import FAILED, PENDING, SENT, Outbox, OutboxMessage
from bot.people import User
from bot.reminders.ids import digest
from bot.reminders.models import Broadcast
from bot.reminders.privacy import ERASED, report_key

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.directory.service import DirectoryService

log = logging.getLogger("coordbot.reminders")

REPORT_LINES = 20
REPORTS_PER_PASS = 50
UNREACHABLE_LINES = {
    NO_DIRECT_CHAT: N_("• {name}: has never written to me, so I cannot reach them."),
    BLOCKED: N_("• {name}: unreachable (blocked the bot)."),
}


class Broadcasts:
    def __init__(self, *, settings: Settings, db: Database, clock: Clock, outbox: Outbox,
                 catalogues: Catalogues, directory: DirectoryService | None) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.outbox = outbox
        self.catalogues = catalogues
        self.directory = directory

    async def recipients(self, session: AsyncSession,
                         tokens: list[str]) -> tuple[list[Recipient], list[Unreachable]]:
        return await AudienceResolver(session, self.directory).resolve(tokens)

    async def create(self, session: AsyncSession, sender: User, sender_chat: str, text: str,
                     tokens: list[str]) -> tuple[Broadcast, int]:
        """Saves the broadcast and queues one message per chat, in the reader's language."""
        recipients, unreachable = await self.recipients(session, tokens)
        broadcast = Broadcast(sender_id=sender.id, sender_chat=sender_chat, text=text,
                              audience=list(tokens), created_at=self.clock.now(),
                              unreachable=[{"name": u.name, "reason": u.reason}
                                           for u in unreachable])
        session.add(broadcast)
        await session.flush()
        for recipient in recipients:
            with self.catalogues.use(recipient.locale or sender.locale
                                     or self.settings.default_locale):
                body = _("Message from {name}:").format(name=sender.display_name) + "\n" + text
            await self.outbox.enqueue(session, ChatRef.parse(recipient.chat_key), Reply(body),
                                      f"bc:{broadcast.id}:{digest(recipient.chat_key)}",
                                      source=f"broadcast:{broadcast.id}")
        log.info("broadcast queued", extra={"fields": {"broadcast_id": broadcast.id,
                                                       "chats": len(recipients),
                                                       "unreachable": len(unreachable)}})
        return broadcast, len(recipients)

    async def delivery_counts(self, session: AsyncSession, limit: int = 20) -> list[
            tuple[Broadcast, dict[str, int]]]:
        """The latest broadcasts, newest first, each with its messages counted by outbox
        status (sent, pending, failed)."""
        sent = list(await session.scalars(
            select(Broadcast).order_by(Broadcast.id.desc()).limit(limit)))
        counts: dict[str, dict[str, int]] = {}
        for source, status, count in await session.execute(
                select(OutboxMessage.source, OutboxMessage.status, func.count())
                .where(OutboxMessage.source.in_([f"broadcast:{b.id}" for b in sent]))
                .group_by(OutboxMessage.source, OutboxMessage.status)):
            counts.setdefault(source or "", {})[status] = count
        return [(b, counts.get(f"broadcast:{b.id}", {})) for b in sent]

    async def report_settled(self) -> int:
        """Queues a delivery report to the sender of every broadcast whose messages are all
        settled. Returns how many reports were queued."""
        reported = 0
        async with self.db.transaction() as session:
            open_ids = list(await session.scalars(select(Broadcast.id).where(
                Broadcast.reported_at.is_(None)).order_by(Broadcast.id).limit(REPORTS_PER_PASS)))
            for broadcast_id in open_ids:
                broadcast = await session.get(Broadcast, broadcast_id)
                if broadcast is not None:
                    reported += await self._report(session, broadcast)
        return reported

    async def _report(self, session: AsyncSession, broadcast: Broadcast) -> int:
        statuses = await session.scalars(select(OutboxMessage.status).where(
            OutboxMessage.source == f"broadcast:{broadcast.id}"))
        if PENDING in set(statuses):
            return 0
        if broadcast.sender_chat:  # empty once the sender erased their data: nobody to tell
            await self.outbox.enqueue(session, ChatRef.parse(broadcast.sender_chat),
                                      await self.report_reply(session, broadcast),
                                      report_key(broadcast.id), source="broadcast-report")
        broadcast.reported_at = self.clock.now()
        return 1

    async def report_reply(self, session: AsyncSession, broadcast: Broadcast,
                           hidden_chats: frozenset[str] = frozenset()) -> Reply:
        """The delivery report, in the sender's language; `hidden_chats` (the direct chats of
        a person being erased) are shown as "—"."""
        rows = list(await session.execute(select(
            OutboxMessage.chat_key, OutboxMessage.status, OutboxMessage.last_error).where(
                OutboxMessage.source == f"broadcast:{broadcast.id}")))
        sender = await session.get(User, broadcast.sender_id)
        sent = sum(1 for _key, status, _error in rows if status == SENT)
        failures = [(ERASED if key in hidden_chats else key, error or "?")
                    for key, status, error in rows if status == FAILED]
        unreachable = list(broadcast.unreachable or [])
        with self.catalogues.use((sender.locale if sender else None)
                                 or self.settings.default_locale):
            failed = len(failures) + len(unreachable)
            lines = [_("Broadcast B{id}: {sent}, {failed}.").format(
                id=broadcast.id, sent=ngettext("{n} sent", "{n} sent", sent).format(n=sent),
                failed=ngettext("{n} failed", "{n} failed", failed).format(n=failed))]
            lines += [f"• {key}: {error}" for key, error in failures[:REPORT_LINES]]
            lines += [_(UNREACHABLE_LINES.get(item.get("reason", ""),
                                              UNREACHABLE_LINES[NO_DIRECT_CHAT])).format(
                name=item["name"]) for item in unreachable[:REPORT_LINES]]
        return Reply("\n".join(lines))
