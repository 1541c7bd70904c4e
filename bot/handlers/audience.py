"""Audiences in chat: asking back what an unclear part of an AUDIENCE meant, and /audience,
which lists everyone an audience reaches (the "full list" a preview points to). The grammar
itself lives in bot/audience.py."""
from __future__ import annotations

from datetime import timedelta
from collections.abc import Awaitable, Callable
from typing import Any

from bot.audience import AudienceError, describe, parse_audience, recipients_line
from bot.directory.text import phrase
from bot.i18n import N_, _
from bot.markup import bold, escape
from bot.messages import Choice, Reply
from bot.router import (Command, Context, ConversationStep, Feature, HandlerResult,
                        UserError)

CHOOSE_KIND = "audience.choose"
SHOWN = 5          # recipients a preview names
MAX_LISTED = 300   # recipients /audience names


async def read(ctx: Context, text: str) -> list[str]:
    """The audience text → stored tokens (AudienceError when unclear)."""
    return await parse_audience(ctx.session, ctx.services.people, text,
                                origin_chat=ctx.chat_key, platform=ctx.message.chat.platform,
                                directory=ctx.services.directory)


async def ask_back(ctx: Context, problem: AudienceError, rebuild: Callable[[str], str]):
    """Explains what is unclear; with readings, offers them as choices and, once one is
    chosen, runs the same command again with that part of the audience replaced. `rebuild`
    turns a corrected audience text into the command's full arguments."""
    if not problem.readings:
        return escape(str(problem))
    payload: dict[str, Any] = {
        "command": ctx.command, "labels": [r.label for r in problem.readings],
        "args": [rebuild(problem.rewrite(r)) for r in problem.readings]}
    await ctx.services.conversations.start(ctx.session, ctx.chat_key, ctx.user.id, CHOOSE_KIND,
                                           payload, ttl=timedelta(hours=1))
    return Reply(escape(str(problem)), _choices(payload["labels"]))


async def answered_anyway(handling: Awaitable[HandlerResult]) -> HandlerResult:
    """A command run from a conversation step that has already ended or moved its
    conversation on: a refusal (UserError) is answered without rolling that back, so the
    person is not asked the same question again."""
    try:
        return await handling
    except UserError as refused:
        return refused.answer


def _choices(labels: list[str]) -> list[Choice]:
    return [Choice(label, str(number)) for number, label in enumerate(labels, 1)]


async def choose_step(ctx: Context, pending):
    payload = pending.payload
    labels = payload.get("labels", [])
    picked = _picked(ctx.message.text, labels)
    if picked is None:
        return Reply(_("Please answer with the number of one of the choices, or send the "
                       "command again."), _choices(labels))
    await ctx.services.conversations.end(ctx.session, ctx.chat_key, ctx.user.id)
    command = ctx.services.router.commands.get(payload.get("command") or "")
    if command is None or not ctx.can(command.action):
        return _("That command is no longer available to you; nothing was done.")
    ctx.command, ctx.args = command.name, payload["args"][picked]
    return await answered_anyway(command.handler(ctx))


def _picked(text: str, labels: list[str]) -> int | None:
    word = text.strip().rstrip(".)")
    if word.isdecimal() and 1 <= int(word) <= len(labels):
        return int(word) - 1
    wanted = phrase(word)
    found = [i for i, label in enumerate(labels) if phrase(label) == wanted]
    return found[0] if len(found) == 1 else None


async def recipients_preview(ctx: Context, tokens: list[str], audience_text: str | None) -> str:
    """How many will receive it and the first few, with the command that lists them all."""
    recipients, _unreachable = await ctx.services.reminders.broadcast_recipients(ctx.session,
                                                                                tokens)
    names = [escape(r.name or _chat_name(ctx, r.chat_key)) for r in recipients]
    line = recipients_line(names, len(names), SHOWN)
    if len(names) > SHOWN and audience_text:
        line += " " + _("Everyone: {command}").format(
            command=f"`{ctx.prefix}audience {escape(audience_text)}`")
    return line


def _chat_name(ctx: Context, chat_key: str) -> str:
    return _("this chat") if chat_key == ctx.chat_key else _("a group chat")


async def show_audience(ctx: Context):
    text = ctx.args.strip()
    if not text:
        return ctx.usage()
    try:
        tokens = await read(ctx, text)
    except AudienceError as problem:
        return await ask_back(ctx, problem, lambda audience: audience)
    recipients, unreachable = await ctx.services.reminders.broadcast_recipients(ctx.session,
                                                                               tokens)
    names = [escape(r.name or _chat_name(ctx, r.chat_key)) for r in recipients]
    lines = [bold(await describe(ctx.session, ctx.services.directory, tokens, ctx.chat_key)),
             recipients_line(names[:MAX_LISTED], len(names), MAX_LISTED)]
    if unreachable:
        lines.append(_("Not reachable: {names}.").format(
            names=", ".join(escape(u.name) for u in unreachable[:MAX_LISTED])))
    return "\n".join(lines)


FEATURE = Feature(
    name="audience",
    commands=[Command("audience", show_audience, N_("everyone an audience reaches"),
                      N_("/audience AUDIENCE"))],
    conversations=[ConversationStep(CHOOSE_KIND, choose_step)],
)
