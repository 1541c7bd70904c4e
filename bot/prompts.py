"""Which pending prompt a message answers.

A person may have, in one chat, questions they are answering (a check-in, and a preview
awaiting Confirm beside it) and prompts the bot pushed (a meeting reminder's "I'll attend /
Can't attend", kept in the background). A step's `reads` says which of its prompts would take
the message as an answer (`1`, "je serai là", "kan niet komen"…):

- a command, or free text with only one question and nothing pushed: the question asked last
  takes it, as always;
- exactly one prompt takes it: that one;
- several take it: a question the person is answering wins if it was asked after the others
  (it is what they see last), else one short question asks which, and the choice answers with
  the original text;
- none takes it: the question asked last explains how to answer it.

Buttons whose value is a command (`/ack R3 … yes`) never come here: they are bound to their
message. Previews' buttons send yes/no words, which reminders do not read without `/ack`."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bot.conversations import PendingConversation, answering, preview_answer
from bot.i18n import _, ngettext
from bot.markup import escape
from bot.messages import Choice, Reply

if TYPE_CHECKING:
    from bot.router import Context, ConversationStep, HandlerResult, Router

WHICH_KIND = "router.which"
WHICH_TTL = timedelta(minutes=10)


@dataclass(frozen=True)
class Target:
    kind: str
    key: str
    label: str
    asked_at: datetime
    foreground: bool = False   # a question the person is answering, not one the bot pushed


async def answer_pending(router: Router, ctx: Context, text: str,
                         parsed: tuple[str, str] | None) -> tuple[bool, HandlerResult]:
    """(handled, result): whether a pending prompt took the message, and its answer."""
    conversations = ctx.services.conversations
    live, expired = await conversations.prompts(ctx.session, ctx.chat_key, ctx.user.id)
    which = next((p for p in live if p.kind == WHICH_KIND), None)
    if which is not None:
        live.remove(which)
        await ctx.session.delete(which)
        picked = _picked(which, text) if parsed is None else None
        if picked is not None:
            return True, await _answer_picked(router, ctx, live, picked, which.payload["text"])
    claiming = [p for p in live if not p.background and _claims(router, p, parsed)]
    if parsed is not None or (not any(p.background for p in live) and len(claiming) < 2):
        if claiming:  # the newest question the person is answering takes it, as always
            return True, await _run(ctx, claiming[0], router.conversations[claiming[0].kind],
                                    parsed)
        stale = next((p for p in expired if answers_preview(router, p, text, parsed)), None)
        if stale is not None:
            return True, stale_preview(ctx, stale)
        return False, None
    target = await _choose(router, ctx, live, claiming)
    if target is None:
        return False, None
    if isinstance(target, list):
        return True, await _ask_which(ctx, text, target)
    return True, await _answer_target(router, ctx, live, target)


async def _choose(router: Router, ctx: Context, live: list[PendingConversation],
                  claiming: list[PendingConversation]) -> Target | list[Target] | None:
    """For free text with several prompts waiting (newest first): the prompt it answers, the
    prompts to ask about, or None when none takes it."""
    targets, anything = await _offered(router, ctx, live, claiming)
    if not targets:   # the question asked last says how to answer it, as always
        return Target(claiming[0].kind, "", "", claiming[0].created_at,
                      True) if claiming else None
    return _ranked(targets, anything)


async def _offered(router: Router, ctx: Context, live: list[PendingConversation],
                   claiming: list[PendingConversation]) -> tuple[list[Target], Target | None]:
    """The prompts that would take the message, and the newest question that takes any
    text (None when there is none)."""
    targets: list[Target] = []
    anything: Target | None = None
    for pending in live:
        step = router.conversations.get(pending.kind)
        reads = await _reads(ctx, pending, step) if step is not None else []
        asked = pending.created_at
        if reads is None and pending in claiming and anything is None:
            anything = Target(pending.kind, "", _("The question I asked you before"), asked,
                              True)
        targets += [Target(pending.kind, key, label, asked, not pending.background)
                    for key, label in reads or []]
    return targets, anything


def _ranked(targets: list[Target], anything: Target | None) -> Target | list[Target]:
    """The one target that wins, or every candidate (questions being answered first)."""
    if anything is not None and anything.asked_at >= max(t.asked_at for t in targets):
        return anything
    newest = max(targets, key=lambda t: t.asked_at)
    others = [t for t in targets if t is not newest]
    # One prompt only, or a question the person is answering asked after every other one.
    if not others or (newest.foreground and all(newest.asked_at >= t.asked_at for t in others)):
        return newest
    offered = targets + ([anything] if anything else [])
    return [t for t in offered if t.foreground] + [t for t in offered if not t.foreground]


def _claims(router: Router, pending: PendingConversation,
            parsed: tuple[str, str] | None) -> bool:
    step = router.conversations.get(pending.kind)
    return step is not None and (parsed is None or parsed[0] in step.commands)


async def _run(ctx: Context, pending: PendingConversation, step: ConversationStep,
               parsed: tuple[str, str] | None, target: str | None = None) -> HandlerResult:
    if parsed:
        ctx.command, ctx.args = parsed
    ctx.target = target
    if not all(ctx.can(action) for action in pending.requires or []):
        # The policy is checked again at confirmation: the role may have changed since.
        await ctx.session.delete(pending)
        return stale_preview(ctx, pending)
    with answering(pending.kind):
        return await step.handler(ctx, pending)


async def _reads(ctx: Context, pending: PendingConversation,
                 step: ConversationStep) -> list[tuple[str, str]] | None:
    """What of this conversation takes the message; None when the step cannot tell (it then
    takes anything, as a free-text question does)."""
    if step.reads is not None:
        return await step.reads(ctx, pending)
    if step.confirms:
        return [("", _("The confirmation I asked you for"))] if is_confirmation(
            ctx.message.text) else []
    return None


async def _answer_target(router: Router, ctx: Context, live: list[PendingConversation],
                         target: Target) -> HandlerResult:
    pending = next((p for p in live if p.kind == target.kind), None)
    step = router.conversations.get(target.kind)
    if pending is None or step is None:
        return _("That question is no longer open; nothing was recorded.")
    return await _run(ctx, pending, step, None, target.key or None)


async def _ask_which(ctx: Context, text: str, targets: list[Target]) -> Reply:
    await ctx.services.conversations.start(
        ctx.session, ctx.chat_key, ctx.user.id, WHICH_KIND,
        {"text": text, "targets": [[t.kind, t.key, t.label] for t in targets]},
        ttl=WHICH_TTL, background=True)
    return Reply(_("Which question is “{answer}” your answer to?").format(
        answer=escape(text[:60])),
                 [Choice(t.label, str(number)) for number, t in enumerate(targets, 1)])


def _picked(which: PendingConversation, text: str) -> Target | None:
    said = text.strip().lower()
    for number, (kind, key, label) in enumerate(which.payload.get("targets", []), 1):
        if said in {str(number), label.lower()}:
            return Target(kind, key, label, datetime.now(UTC))
    return None


async def _answer_picked(router: Router, ctx: Context, live: list[PendingConversation],
                         target: Target, original: str) -> HandlerResult:
    """The person said which prompt their earlier message answers: it answers it now. A
    foreground conversation chosen this way becomes the newest, so that its next answers
    go to it without asking again."""
    ctx.message.text = original
    pending = next((p for p in live if p.kind == target.kind), None)
    if pending is not None and not pending.background:
        await ctx.services.conversations.touch(ctx.session, pending)
    return await _answer_target(router, ctx, live, target)


def is_confirmation(text: str) -> bool:
    return preview_answer(text) is not None


def answers_preview(router: Router, pending: PendingConversation, text: str,
                    parsed: tuple[str, str] | None) -> bool:
    """Whether a message is the answer to a preview that is no longer pending."""
    step = router.conversations.get(pending.kind)
    if step is None or not step.confirms:
        return False
    if parsed is not None:
        return parsed[0] in step.commands
    return is_confirmation(text)


def stale_preview(ctx: Context, pending: PendingConversation) -> str:
    """The answer to a confirmation that can no longer be confirmed: nothing happens."""
    if not all(ctx.can(action) for action in pending.requires or []):
        return _("Your role has changed since this preview (you are now {role}): nothing was "
                 "sent or saved.").format(role=_role_label(ctx))
    minutes = ctx.services.settings.preview_ttl_minutes
    return ngettext("This preview has expired (a preview waits {n} minute for an answer): "
                    "nothing was sent or saved. Please send the command again.",
                    "This preview has expired (a preview waits {n} minutes for an answer): "
                    "nothing was sent or saved. Please send the command again.",
                    minutes).format(n=minutes)


def _role_label(ctx: Context) -> str:
    from bot.router import role_label
    return role_label(ctx.role)
