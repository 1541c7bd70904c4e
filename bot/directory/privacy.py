"""What the directory stores about a person, for `/mydata` and `/forget` (registered with
`services.trust.privacy` by `build`).

Personal: their last question per chat (for `/more`), the link from their account to the
directory entry they stand for, the changes to an entry they made or decided, and the
completeness requests sent to them. The entry itself (organisation, service, public and named
contact details) is organisational data kept by its coordinators: `/forget` removes the link,
not the entry, and removes the person from the change log, which keeps the values; the
coordinator corrects or removes the entry with `/import`."""
from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.directory.campaign import CompletionRequest
from bot.directory.changes import DirectoryChange
from bot.directory.models import LastQuery
from bot.people import User


def register(privacy, directory) -> None:
    async def export(session: AsyncSession, user: User) -> dict:
        queries = await session.scalars(select(LastQuery).where(
            LastQuery.user_id == user.id).order_by(LastQuery.id))
        entry = directory.index.get(user.entry_id) if user.entry_id else None
        linked = None
        if user.entry_id:
            linked = {"entry_id": user.entry_id,
                      "note": "organisational data; /forget removes the link, not the entry"}
            if entry is not None:
                linked.update(organisation=entry.organisation, contact_name=entry.contact_name,
                              email=entry.email, phone=entry.phone, matrix=entry.matrix,
                              telegram=entry.telegram)
        changes = await session.scalars(select(DirectoryChange).where(
            DirectoryChange.changed_by == user.id).order_by(DirectoryChange.id))
        return {"last_questions": [{"chat_key": q.chat_key, "query": q.query, "place": q.place,
                                    "at": q.updated_at} for q in queries],
                "linked_entry": linked,
                "completion_requests": [
                    {"campaign": r.campaign, "entry_id": r.entry_id, "asked_at": r.asked_at,
                     "answered_at": r.answered_at}
                    for r in await session.scalars(select(CompletionRequest).where(
                        CompletionRequest.user_id == user.id).order_by(CompletionRequest.id))],
                "entry_changes": [{"id": c.id, "entry_id": c.entry_id, "field": c.field,
                                   "old": c.old_value, "new": c.new_value, "at": c.changed_at,
                                   "status": c.status} for c in changes]}

    privacy.register("directory", export, erase, reassign)


async def erase(session: AsyncSession, user: User) -> None:
    await session.execute(delete(LastQuery).where(LastQuery.user_id == user.id))
    await session.execute(update(User).where(User.id == user.id).values(entry_id=None))
    for column in (DirectoryChange.changed_by, DirectoryChange.decided_by):
        await session.execute(update(DirectoryChange).where(column == user.id)
                              .values({column.key: None}))
    await session.execute(delete(CompletionRequest).where(CompletionRequest.user_id == user.id))
    await session.execute(update(CompletionRequest).where(CompletionRequest.created_by == user.id)
                          .values(created_by=None))


async def reassign(session: AsyncSession, from_user_id: int, to_user_id: int) -> None:
    # Chat keys differ between the two identities: no (chat, user) pair can collide.
    await session.execute(update(LastQuery).where(LastQuery.user_id == from_user_id)
                          .values(user_id=to_user_id))
    for column in (DirectoryChange.changed_by, DirectoryChange.decided_by,
                   CompletionRequest.user_id, CompletionRequest.created_by):
        await session.execute(update(column.class_).where(column == from_user_id)
                              .values({column.key: to_user_id}))
