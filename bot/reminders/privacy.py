"""What reminders store about a person, for `/mydata` and `/forget` (registered with
`services.trust.privacy` by `build`).

Personal: the schedules they own (text, times, audience), their answers to meetings and
deadlines, the broadcasts they sent. `/forget` cancels their schedules and blanks their text
(the row stays, anonymous, so that ids in the audit log still point somewhere), deletes their
answers, blanks the text of their broadcasts and their name in others' delivery lists. Copies
in the outbox go too: their reminders and broadcasts still queued for others are withdrawn
(those already sent keep no text), others' delivery reports are rewritten without their name
or chat, and others' schedules stop addressing them."""
from __future__ import annotations

from datetime import datetime, UTC

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversations import PendingConversation
from bot.outbox import PENDING, OutboxMessage
from bot.people import User
from bot.reminders.models import Acknowledgement, Broadcast, Schedule
from bot.trust.privacy import direct_chat_keys, row_dict

ERASED = "—"


def report_key(broadcast_id: int) -> str:
    return f"bc-report:{broadcast_id}"


async def export(session: AsyncSession, user: User) -> dict:
    schedules = await session.scalars(select(Schedule).where(
        Schedule.owner_id == user.id).order_by(Schedule.id))
    acks = await session.scalars(select(Acknowledgement).where(
        Acknowledgement.user_id == user.id).order_by(Acknowledgement.id))
    broadcasts = await session.scalars(select(Broadcast).where(
        Broadcast.sender_id == user.id).order_by(Broadcast.id))
    return {
        "schedules": [row_dict(s, "id", "kind", "title", "message", "timezone", "start_local",
                               "rrule", "leads_minutes", "audience", "origin_chat", "exdates",
                               "active", "created_at") for s in schedules],
        "answers": [row_dict(a, "schedule_id", "occurrence", "answer", "answered_at")
                    for a in acks],
        "broadcasts_sent": [row_dict(b, "id", "text", "audience", "sender_chat", "created_at")
                            for b in broadcasts],
    }


async def erase(session: AsyncSession, user: User, service=None) -> None:
    mine = list(await session.scalars(select(Schedule.id).where(Schedule.owner_id == user.id)))
    sent_by_me = list(await session.scalars(select(Broadcast.id).where(
        Broadcast.sender_id == user.id)))
    await session.execute(update(Schedule).where(Schedule.owner_id == user.id).values(
        active=False, next_due=None, title=ERASED, message=ERASED, origin_chat="",
        audience=[]))
    await session.execute(delete(Acknowledgement).where(Acknowledgement.user_id == user.id))
    await session.execute(update(Broadcast).where(Broadcast.sender_id == user.id).values(
        text=ERASED, sender_chat=""))
    # No delivery report is due to a sender who is gone.
    await session.execute(update(Broadcast).where(
        Broadcast.sender_id == user.id, Broadcast.reported_at.is_(None)).values(
        reported_at=datetime.now(UTC)))
    await _withdraw_messages(session, user.id, mine, sent_by_me)
    await _drop_from_audiences(session, user.id)
    await _redact_reports(session, user, service, set(sent_by_me))
    await session.flush()


async def _withdraw_messages(session: AsyncSession, user_id: int, schedule_ids: list[int],
                             broadcast_ids: list[int]) -> None:
    """The person's reminders and broadcasts to others: not sent any more if still queued,
    and the stored copy of those already sent loses its text, as the originals do."""
    sources = [f"reminder:{i}" for i in schedule_ids] + [f"broadcast:{i}" for i in broadcast_ids]
    keys = [report_key(i) for i in broadcast_ids]
    theirs = or_(OutboxMessage.source.in_(sources), OutboxMessage.idempotency_key.in_(keys),
                 OutboxMessage.idempotency_key.like(f"rem:missed:{user_id}:%"))
    await session.execute(delete(OutboxMessage).where(theirs, OutboxMessage.status == PENDING))
    await session.execute(update(OutboxMessage).where(theirs).values(text=ERASED, choices=[]))


async def _drop_from_audiences(session: AsyncSession, user_id: int) -> None:
    """Others' schedules that address the person lose that token (a schedule left with no
    audience stays its owner's to edit or cancel; it reaches nobody)."""
    token = f"user:{user_id}"
    for schedule in list(await session.scalars(select(Schedule).where(
            Schedule.owner_id != user_id))):
        audience = list(schedule.audience or [])
        if token in audience:
            schedule.audience = [t for t in audience if t != token]
    # Previews awaiting confirmation (a broadcast, a schedule for others) hold tokens too.
    for pending in list(await session.scalars(select(PendingConversation).where(
            PendingConversation.user_id != user_id))):
        held = (pending.payload or {}).get("audience")
        if isinstance(held, list) and token in held:
            pending.payload = dict(pending.payload, audience=[t for t in held if t != token])


async def _redact_reports(session: AsyncSession, user: User, service,
                          own_broadcasts: set[int]) -> None:
    """Others' broadcasts name the people they could not reach, and their delivery reports
    (queued or sent) list those names and the chats that failed: both lose the person."""
    name = user.display_name
    chats = frozenset(await direct_chat_keys(session, user.id))
    failed_to_me = set()
    if chats:
        failed_to_me = {int(str(source).split(":", 1)[1]) for source in await session.scalars(
            select(OutboxMessage.source).where(OutboxMessage.chat_key.in_(chats),
                                               OutboxMessage.source.like("broadcast:%")))}
    for broadcast in list(await session.scalars(select(Broadcast))):
        if broadcast.id in own_broadcasts:
            continue
        items = broadcast.unreachable or []
        named = bool(name) and any(item.get("name") == name for item in items)
        if named:
            broadcast.unreachable = [dict(item, name=ERASED) if item.get("name") == name
                                     else item for item in items]
        if not (named or broadcast.id in failed_to_me):
            continue
        report = await session.scalar(select(OutboxMessage).where(
            OutboxMessage.idempotency_key == report_key(broadcast.id)))
        if service is not None and report is not None and report.text:
            await session.flush()
            report.text = (await service.report_reply(session, broadcast, chats)).text


async def reassign(session: AsyncSession, from_user_id: int, to_user_id: int) -> None:
    await session.execute(update(Schedule).where(Schedule.owner_id == from_user_id)
                          .values(owner_id=to_user_id))
    await session.execute(update(Broadcast).where(Broadcast.sender_id == from_user_id)
                          .values(sender_id=to_user_id))
    kept = set(await session.execute(select(Acknowledgement.schedule_id,
                                            Acknowledgement.occurrence).where(
        Acknowledgement.user_id == to_user_id)))
    for ack in list(await session.scalars(select(Acknowledgement).where(
            Acknowledgement.user_id == from_user_id))):
        if (ack.schedule_id, ack.occurrence) in kept:
            await session.delete(ack)  # the main account's own answer wins
        else:
            ack.user_id = to_user_id
    await session.flush()


def register(privacy, service=None) -> None:
    async def erase_with_reports(session: AsyncSession, user: User) -> None:
        await erase(session, user, service)

    privacy.register("reminders", export, erase_with_reports, reassign)
