"""Answers to the re-verification question (sent by bot/directory/verification.py): `/verify
ID ok|changes`, or `1`/`2` and the button labels while questions are open. "Needs changes"
from the focal point opens the entry editor (directory_edit.py)."""
from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.conversations import PendingConversation, confirmation_answer
from bot.directory.records import EntryRecord
from bot.directory.service import DirectoryService
from bot.directory.verification import ANSWER_KIND as VERIFY_KIND
from bot.directory.verification import CHANGES, CONFIRM, question
from bot.handlers import directory_edit as editor
from bot.handlers.directory_entries import directory_of, known_entry
from bot.handlers.directory_search import search_text
from bot.i18n import _
from bot.markup import bold, escape
from bot.messages import Reply
from bot.router import Context, HandlerResult, UserError
from bot.trust import audit


async def verify(ctx: Context) -> HandlerResult:
    parts = ctx.args.split()
    if len(parts) != 2 or parts[1].lower() not in {CONFIRM, CHANGES}:
        return ctx.usage()
    return await _verification_answer(ctx, parts[0], parts[1].lower())


async def verify_step(ctx: Context, pending: PendingConversation) -> HandlerResult:
    """`1`/`2` (or a label) answers the oldest open question; anything else is a new query."""
    entries = list(pending.payload.get("entries", []))
    answer = _verification_choice(ctx.message.text)
    if answer is None or not entries:
        await ctx.services.conversations.end(ctx.session, ctx.chat_key, ctx.user.id)
        if not (ctx.message.is_direct or ctx.message.addressed):
            return None
        return await search_text(ctx)
    return await _verification_answer(ctx, entries[0], answer)


def _verification_choice(text: str) -> str | None:
    word = text.strip().casefold()
    if word == _("Still correct").casefold():
        return CONFIRM
    if word == _("Needs changes").casefold():
        return CHANGES
    found = confirmation_answer(text)
    return None if found is None else (CONFIRM if found else CHANGES)


async def _verification_answer(ctx: Context, entry_id: str, answer: str) -> HandlerResult:
    directory = directory_of(ctx)
    known_entry(ctx, entry_id)
    answered = await directory.verification.record_answer(
        ctx.session, ctx.user, entry_id, answer, coordinator=ctx.can("stale"))
    if answered is None:
        raise UserError(_("Only the focal point of {id} or a coordinator can answer for it.")
                        .format(id=escape(entry_id[:100])))
    remaining = await _drop_question(ctx, entry_id)
    if not answered.by_focal_point:
        await audit.record(ctx.session, ctx.user.id, "directory.verify", f"entry:{entry_id}",
                           {"answer": answer}, at=ctx.services.clock.now())
    record = answered.record
    replies: list[str | Reply]
    if answer == CONFIRM:
        ctx.after_commit.append(_note_verified(directory, record))
        replies = [_("Thank you: {name} is verified as of {date}.").format(
            name=bold(record.organisation),
            date=record.last_verified.isoformat() if record.last_verified else "")]
    elif ctx.message.is_direct and await directory.changes.may_edit(ctx.session, ctx.user,
                                                                    entry_id):
        # "Needs changes" opens the editor; the other open questions come back after it.
        return [_("Thank you. Correct your entry here, one field at a time:"),
                await editor.start_editor(ctx, entry_id, after=remaining)]
    else:
        replies = [_("Thank you. Please send the corrections for {name} (`{id}`) to your "
                     "coordinator: what is wrong and the right details. Until the entry is "
                     "corrected, coordinators see it in {prefix}stale.").format(
            name=bold(record.organisation), id=record.id, prefix=ctx.prefix)]
    next_entry = directory.index.get(remaining[0]) if remaining else None
    if next_entry is not None:
        replies.append(question(next_entry, ctx.prefix))
    return replies


async def _drop_question(ctx: Context, entry_id: str) -> list[str]:
    """Removes the entry from the person's open questions; returns the ones still open."""
    conversations = ctx.services.conversations
    pending = await conversations.current(ctx.session, ctx.chat_key, ctx.user.id, VERIFY_KIND)
    if pending is None:
        return []
    remaining = [e for e in pending.payload.get("entries", [])
                 if e != entry_id and directory_of(ctx).index.get(e) is not None]
    if remaining:
        await conversations.update(ctx.session, pending, {"entries": remaining})
    else:
        await conversations.end(ctx.session, ctx.chat_key, ctx.user.id, VERIFY_KIND)
    return remaining


def _note_verified(directory: DirectoryService, record: EntryRecord
                   ) -> Callable[[], Awaitable[None]]:
    async def note() -> None:
        directory.note_verified(record)
    return note

