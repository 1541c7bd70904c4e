"""What reminders store about a person, for `/mydata` and `/forget` (registered with
`services.trust.privacy` by `build`).

Personal: the schedules they own (text, times, audience), their answers to meetings and
deadlines, the broadcasts they sent. `/forget` cancels their schedules and blanks their text
(the row stays, anonymous, so that ids in the audit log still point somewhere), deletes their
answers, blanks the text of their broadcasts and their name in others' delivery lists."""
from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.people import User
from bot.reminders.models import Acknowledgement, Broadcast, Schedule
from bot.trust.privacy import row_dict

ERASED = "—"


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


async def erase(session: AsyncSession, user: User) -> None:
    await session.execute(update(Schedule).where(Schedule.owner_id == user.id).values(
        active=False, next_due=None, title=ERASED, message=ERASED, origin_chat="",
        audience=[]))
    await session.execute(delete(Acknowledgement).where(Acknowledgement.user_id == user.id))
    await session.execute(update(Broadcast).where(Broadcast.sender_id == user.id).values(
        text=ERASED, sender_chat=""))
    # Others' delivery reports name the people they could not reach.
    name = user.display_name
    if name:
        for broadcast in list(await session.scalars(select(Broadcast))):
            items = broadcast.unreachable or []
            if any(item.get("name") == name for item in items):
                broadcast.unreachable = [dict(item, name=ERASED) if item.get("name") == name
                                         else item for item in items]
    await session.flush()


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


def register(privacy) -> None:
    privacy.register("reminders", export, erase, reassign)
