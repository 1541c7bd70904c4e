"""Pending conversations: a preview awaiting "confirm", a check-in halfway through. Stored in
the database so that a restart resumes them. A person has in a chat one *foreground*
conversation (the question they are answering: a new one replaces it), a preview beside it, and
*background* prompts the bot pushed (a reminder's attend/can't answers), one row per kind;
bot/prompts.py decides which one a message answers.

A preview (`start_preview`) lives `COORDBOT_PREVIEW_TTL_MINUTES` and records the policy actions
it needs (`requires`): the router checks them again when it is answered, so a confirmation never
outlives the permission. A role change expires every pending conversation of the person."""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from collections.abc import Awaitable, Callable, Iterable, Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import (JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint,
                        delete, false, or_, select, update)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.clock import Clock
from bot.db import Base, UTCDateTime
from bot.i18n import _
from bot.messages import Choice, Reply
from bot.people import utcnow

if TYPE_CHECKING:
    from bot.router import Context, HandlerResult

YES_WORDS = {"1", "yes", "y", "ok", "oui", "o", "ja", "j", "так", "confirm", "confirmer",
             "bevestigen", "bestätigen", "підтвердити"}
NO_WORDS = {"2", "no", "n", "non", "nee", "nein", "ні", "cancel", "annuler", "annuleren",
            "abbrechen", "скасувати"}


# Not in the policy table, so `allowed()` refuses it to every role (see `expire_all`).
ROLE_CHANGED = "conversations.role_changed"


class PendingConversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("chat_key", "user_id", "kind",
                                       name="uq_conversations_prompt"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_key: Mapped[str] = mapped_column(String(300))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Policy actions (bot/policy.py) the person must still be allowed when answering.
    requires: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    # A prompt pushed by the bot that waits beside the foreground conversation.
    background: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Conversations:
    """Start, find and end the pending conversation of a person in a chat."""

    def __init__(self, clock: Clock, preview_ttl: timedelta = timedelta(minutes=30)) -> None:
        self.clock = clock
        self.preview_ttl = preview_ttl

    async def start(self, session: AsyncSession, chat_key: str, user_id: int, kind: str,
                    payload: dict, ttl: timedelta | None = timedelta(days=1),
                    requires: Iterable[str] = (), background: bool = False) -> PendingConversation:
        """A foreground conversation replaces the person's previous one in this chat; a
        background prompt replaces only the prompt of its own kind."""
        query = delete(PendingConversation).where(PendingConversation.chat_key == chat_key,
                                                  PendingConversation.user_id == user_id)
        if background:
            query = query.where(PendingConversation.kind == kind)
        else:
            query = query.where(or_(PendingConversation.background == False,  # noqa: E712
                                    PendingConversation.kind == kind))
        await session.execute(query)
        now = self.clock.now()
        pending = PendingConversation(chat_key=chat_key, user_id=user_id, kind=kind,
                                      payload=payload, created_at=now,
                                      expires_at=now + ttl if ttl else None,
                                      requires=list(requires), background=background)
        session.add(pending)
        await session.flush()
        return pending

    async def start_preview(self, session: AsyncSession, chat_key: str, user_id: int, kind: str,
                            payload: dict, requires: Iterable[str]) -> PendingConversation:
        """A step awaiting Confirm: short-lived, and `requires` (policy actions) is checked
        again by the router when it is answered. It replaces an earlier preview but waits
        beside a check-in being answered, which goes on once it is confirmed or cancelled."""
        for row in await session.scalars(select(PendingConversation).where(
                PendingConversation.chat_key == chat_key, PendingConversation.user_id == user_id,
                PendingConversation.background == False)):  # noqa: E712
            if row.requires or row.kind == kind:
                await session.delete(row)
        await session.flush()
        now = self.clock.now()
        pending = PendingConversation(chat_key=chat_key, user_id=user_id, kind=kind,
                                      payload=payload, created_at=now,
                                      expires_at=now + self.preview_ttl,
                                      requires=list(requires), background=False)
        session.add(pending)
        await session.flush()
        return pending

    async def current(self, session: AsyncSession, chat_key: str, user_id: int,
                      kind: str | None = None) -> PendingConversation | None:
        """The live foreground conversation, or the live prompt of `kind`."""
        live, _expired = await self.prompts(session, chat_key, user_id)
        return next((p for p in live if (p.kind == kind if kind else not p.background)), None)

    async def prompts(self, session: AsyncSession, chat_key: str, user_id: int) -> tuple[
            list[PendingConversation], list[PendingConversation]]:
        """(the live conversations and prompts, newest first; those that have just expired).
        Expired ones are deleted; they are returned so that an answer to an expired preview
        can be told so."""
        rows = list(await session.scalars(select(PendingConversation).where(
            PendingConversation.chat_key == chat_key, PendingConversation.user_id == user_id)
            .order_by(PendingConversation.created_at.desc(), PendingConversation.id.desc())))
        now = self.clock.now()
        expired = [p for p in rows if p.expires_at and p.expires_at <= now]
        for pending in expired:
            await session.delete(pending)
        if expired:
            await session.flush()
        return [p for p in rows if p not in expired], expired

    async def touch(self, session: AsyncSession, pending: PendingConversation) -> None:
        """Makes a conversation the newest: the person just chose to answer it."""
        pending.created_at = self.clock.now()
        await session.flush()

    async def expire_all(self, session: AsyncSession, user_id: int) -> None:
        """After a role change: nothing the person had pending can be continued. Expired
        rather than deleted, so that answering an old preview gets an explanation."""
        # ROLE_CHANGED is an action nobody holds: the answer then says the role changed,
        # not that the preview waited too long.
        await session.execute(update(PendingConversation).where(
            PendingConversation.user_id == user_id).values(expires_at=self.clock.now(),
                                                           requires=[ROLE_CHANGED]))

    async def update(self, session: AsyncSession, pending: PendingConversation,
                     payload: dict[str, Any]) -> None:
        pending.payload = dict(payload)
        await session.flush()

    async def end(self, session: AsyncSession, chat_key: str, user_id: int,
                  kind: str | None = None) -> None:
        """Ends the prompt of `kind`: by default the one being answered (the router says
        which, see `answering`), else every foreground one. Other prompts stay."""
        kind = kind or _ANSWERING.get()
        await session.execute(delete(PendingConversation).where(
            PendingConversation.chat_key == chat_key, PendingConversation.user_id == user_id,
            PendingConversation.kind == kind if kind else
            PendingConversation.background == False))  # noqa: E712


# The kind of conversation the current message answers: a step that ends "its" conversation
# must not end a check-in waiting beside a preview (several prompts can wait at once).
_ANSWERING: ContextVar[str | None] = ContextVar("coordbot_answering", default=None)


@contextmanager
def answering(kind: str) -> Iterator[None]:
    token = _ANSWERING.set(kind)
    try:
        yield
    finally:
        _ANSWERING.reset(token)


def confirmation_answer(text: str) -> bool | None:
    """True for a yes-word or `1`, False for a no-word or `2`, None for anything else."""
    word = text.strip().lower().rstrip("!.")
    if word in YES_WORDS:
        return True
    if word in NO_WORDS:
        return False
    return None


def confirm_choices() -> list[Choice]:
    """The two buttons under every preview; `preview_answer` reads what they send back, and
    also "yes"/"oui"/"1" or the label typed out."""
    return [Choice(_("Confirm"), "yes"), Choice(_("Cancel"), "no")]


def preview_answer(text: str) -> bool | None:
    """`confirmation_answer`, or the label of a preview's Confirm / Cancel choice typed out
    in the reader's language."""
    found = confirmation_answer(text)
    if found is not None:
        return found
    word = text.strip().lower()
    if word == _("Confirm").lower():
        return True
    if word == _("Cancel").lower():
        return False
    return None


def confirm_step(save: Callable[[Context, dict[str, Any]], Awaitable[HandlerResult]],
                 ) -> Callable[[Context, PendingConversation], Awaitable[HandlerResult]]:
    """The one Confirm step of a preview: Confirm runs `save(ctx, payload)`, Cancel says
    nothing was saved, anything else asks again. The preview ends before `save` runs, so an
    answer `save` returns (e.g. "that time has passed") ends it too."""

    async def step(ctx: Context, pending: PendingConversation) -> HandlerResult:
        answer = preview_answer(ctx.message.text)
        if answer is None:
            return Reply(_("Please answer 1 to confirm or 2 to cancel."), confirm_choices())
        payload = dict(pending.payload)
        await ctx.services.conversations.end(ctx.session, ctx.chat_key, ctx.user.id)
        if not answer:
            return _("Cancelled; nothing was saved or sent.")
        return await save(ctx, payload)

    return step
