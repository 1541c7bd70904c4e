"""What check-ins store about a person, for `/mydata` and `/forget` (registered with
`services.trust.privacy` by bot/bootstrap.py).

Personal: their assignments (which rounds asked them, their answers, drafts, region, when they
submitted), their declared absences and the rounds they opened. `/forget` keeps the anonymised
aggregates: each submitted assignment keeps only the values the round's totals count (numbers
and choices) on the now nameless account; free-text answers, drafts and the chat are erased,
absences deleted. Rounds already reduced to aggregates hold no raw answers at all. Copies sent
to others go at once too: closing summaries (queued, or the stored copy of one already sent) are
written again without the person's name and free-text answers, and round audiences no longer
name them."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.checkins.models import CheckinAbsence, CheckinAssignment, CheckinRound
from bot.conversations import PendingConversation
from bot.people import Identity, User
from bot.trust.privacy import Privacy, row_dict

if TYPE_CHECKING:
    from bot.checkins.service import CheckinsService


def register(privacy: Privacy, service: CheckinsService) -> None:
    async def export(session: AsyncSession, user: User) -> dict[str, Any]:
        assignments = await service.assignments_of(session, user.id)
        absences = await session.scalars(select(CheckinAbsence).where(
            CheckinAbsence.user_id == user.id).order_by(CheckinAbsence.id))
        opened = await session.scalars(select(CheckinRound.id).where(
            CheckinRound.created_by == user.id).order_by(CheckinRound.id))
        return {
            "assignments": [dict(row_dict(a, "round_id", "status", "answers", "draft", "region",
                                          "submitted_at", "edited_at", "late", "nudges_sent",
                                          "chat_key"), form=code, round=r.number)
                            for a, r, code in assignments],
            "absences": [row_dict(a, "starts_on", "ends_on", "created_at") for a in absences],
            "rounds_opened": list(opened),
        }

    async def erase(session: AsyncSession, user: User) -> None:
        round_ids = []
        for assignment, round_, _code in await service.assignments_of(session, user.id):
            counted = {q.name for q in service.form_of(round_).answerable if q.type != "text"}
            answers = assignment.answers
            assignment.answers = ({k: v for k, v in answers.items() if k in counted}
                                  if answers else answers)
            assignment.draft, assignment.chat_key, assignment.confirming = None, None, False
            round_ids.append(round_.id)
        await session.execute(delete(CheckinAbsence).where(CheckinAbsence.user_id == user.id))
        await session.flush()
        # Copies addressed to others: closing summaries name non-responders and quote texts.
        await service.redact_summaries(session, round_ids, user.id)
        await _drop_from_round_audiences(session, user)

    privacy.register("checkins", export, erase, reassign)


async def _drop_from_round_audiences(session: AsyncSession, user: User) -> None:
    """Round audiences are kept as written (`@piet, role:focal_point`): the items that name
    the person (their usernames, platform ids) are removed."""
    identities = list(await session.scalars(select(Identity).where(Identity.user_id == user.id)))
    handles = {h.lower() for i in identities
               for h in (i.username, i.platform_user_id, i.key) if h}
    handles.add(f"user:{user.id}")   # rounds store `user:ID` tokens for people named
    for round_ in list(await session.scalars(select(CheckinRound))):
        kept = _without(round_.audience or "", handles)
        if kept is not None:
            round_.audience = kept
    # A round preview awaiting confirmation holds its audience as written too.
    for pending in list(await session.scalars(select(PendingConversation).where(
            PendingConversation.user_id != user.id))):
        audience = (pending.payload or {}).get("audience")
        kept = _without(audience, handles) if isinstance(audience, str) else None
        if kept is not None:
            pending.payload = dict(pending.payload, audience=kept)
    await session.flush()


def _without(audience: str, handles: set[str]) -> str | None:
    """The audience without the items naming one of `handles`; None when none does."""
    items = [item.strip() for item in audience.split(",") if item.strip()]
    kept = [item for item in items if not _names(item, handles)]
    return ", ".join(kept) if len(kept) != len(items) else None


def _names(item: str, handles: set[str]) -> bool:
    lowered = item.lower()
    return lowered in handles or (lowered.startswith("@") and lowered[1:] in handles)


async def reassign(session: AsyncSession, from_user_id: int, to_user_id: int) -> None:
    taken = set(await session.scalars(select(CheckinAssignment.round_id).where(
        CheckinAssignment.user_id == to_user_id)))
    if taken:  # one assignment per person and round: the main account's wins
        await session.execute(delete(CheckinAssignment).where(
            CheckinAssignment.user_id == from_user_id, CheckinAssignment.round_id.in_(taken)))
    await session.execute(update(CheckinAssignment).where(
        CheckinAssignment.user_id == from_user_id).values(user_id=to_user_id))
    await session.execute(update(CheckinAbsence).where(CheckinAbsence.user_id == from_user_id)
                          .values(user_id=to_user_id))
    await session.execute(update(CheckinRound).where(CheckinRound.created_by == from_user_id)
                          .values(created_by=to_user_id))
