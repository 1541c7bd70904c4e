"""What meetings store about a person, for `/mydata` and `/forget`.

Personal: the agenda points, decisions and actions they recorded, the actions they closed,
the actions addressed to them by name. `/forget` deletes their agenda points; decisions and
actions stay as the meeting's record but no longer name them (author, who closed); an action
addressed to them alone goes back to its recorder as "not theirs"."""
from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.meetings.models import ACTION, AGENDA, DECLINED, OPEN, MeetingItem
from bot.people import User
from bot.trust.privacy import row_dict

FIELDS = ("id", "schedule_id", "occurrence", "kind", "text", "owner", "due_at", "status",
          "closed_at", "created_at")


async def _named(session: AsyncSession, user_id: int) -> list[MeetingItem]:
    token = f"user:{user_id}"
    actions = await session.scalars(select(MeetingItem).where(MeetingItem.kind == ACTION)
                                    .order_by(MeetingItem.id))
    return [item for item in actions if token in (item.owner or [])]


async def export(session: AsyncSession, user: User) -> dict:
    recorded = await session.scalars(select(MeetingItem).where(
        MeetingItem.author_id == user.id).order_by(MeetingItem.id))
    closed = await session.scalars(select(MeetingItem).where(
        MeetingItem.closed_by == user.id).order_by(MeetingItem.id))
    return {
        "recorded": [row_dict(i, *FIELDS) for i in recorded],
        "closed": [row_dict(i, "id", "status", "closed_at") for i in closed],
        "actions_for_me": [row_dict(i, *FIELDS) for i in await _named(session, user.id)],
    }


async def erase(session: AsyncSession, user: User) -> None:
    await session.execute(delete(MeetingItem).where(MeetingItem.author_id == user.id,
                                                    MeetingItem.kind == AGENDA))
    await session.execute(update(MeetingItem).where(MeetingItem.author_id == user.id)
                          .values(author_id=None))
    await session.execute(update(MeetingItem).where(MeetingItem.closed_by == user.id)
                          .values(closed_by=None))
    token = f"user:{user.id}"
    for item in await _named(session, user.id):
        item.owner = [t for t in item.owner if t != token]
        if not item.owner and item.status == OPEN:
            item.status = DECLINED
    await session.flush()


async def reassign(session: AsyncSession, from_user_id: int, to_user_id: int) -> None:
    await session.execute(update(MeetingItem).where(MeetingItem.author_id == from_user_id)
                          .values(author_id=to_user_id))
    await session.execute(update(MeetingItem).where(MeetingItem.closed_by == from_user_id)
                          .values(closed_by=to_user_id))
    old, new = f"user:{from_user_id}", f"user:{to_user_id}"
    for item in await _named(session, from_user_id):
        item.owner = list(dict.fromkeys(new if t == old else t for t in item.owner))
    await session.flush()


def register(privacy) -> None:
    privacy.register("meetings", export, erase, reassign)
