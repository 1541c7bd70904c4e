"""Reminder and broadcast commands: /remind, /meeting, /deadline, /reminders, /cancel, /skip,
/edit, /acks, /broadcast, /calendar (grammar in docs/commands.md). Anything that schedules or
sends to others is previewed first and saved only after Confirm."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.audience import BLOCKED, AudienceError, describe, only_self
from bot.conversations import confirm_choices, confirm_step
from bot.handlers import audience as audiences
from bot.handlers.reminder_answers import ack, ack_reads, ack_step
from bot.i18n import N_, _, current_locale, ngettext
from bot.markup import bold, escape
from bot.reminders.formatting import duration, moment
from bot.messages import Attachment, Reply
from bot.reminders.answers import ACK_ANSWERS, ACK_KIND, ack_count
from bot.reminders.ids import parse_short_id, short_id
from bot.reminders.models import Schedule
from bot.reminders.service import RemindersService
from bot.router import (Command, ConversationStep, Context, Feature, HandlerResult, UserError,
                        role_label)
from bot.trust import audit
from bot.when import When, WhenError, parse_when
from bot.when.recurrence import parse_local

CONFIRM_KIND = "reminders.confirm"
KIND_TITLES = {"note": N_("New reminder"), "meeting": N_("New meeting"),
               "deadline": N_("New deadline")}
KIND_LABELS = {"note": N_("reminder"), "meeting": N_("meeting"), "deadline": N_("deadline")}
MAX_LISTED = 30
MAX_TEXT = 2000


def _service(ctx: Context) -> RemindersService:
    return ctx.services.reminders


def _parts(args: str) -> list[str]:
    return [part.strip() for part in args.split(";")]


# --- creating ---------------------------------------------------------------------------------

async def remind(ctx: Context):
    return await _new_schedule(ctx, "note")


async def meeting(ctx: Context):
    return await _new_schedule(ctx, "meeting")


async def deadline(ctx: Context):
    return await _new_schedule(ctx, "deadline")


async def _new_schedule(ctx: Context, kind: str):
    parts = _parts(ctx.args)
    if len(parts) < 2 or not parts[0] or not parts[1]:
        return ctx.usage()
    text = parts[1]
    if len(text) > MAX_TEXT:
        return _("The reminder text is too long (at most {limit} characters).").format(
            limit=MAX_TEXT)
    audience_text = "; ".join(parts[2:]) or "here"
    try:
        when = _parse_when(ctx, parts[0])
        tokens = await _audience(ctx, audience_text)
    except WhenError as problem:
        return escape(str(problem))
    except AudienceError as problem:
        return await audiences.ask_back(ctx, problem,
                                        lambda new: "; ".join([parts[0], parts[1], new]))
    payload = {"action": "create", "kind": kind, "text": text, "when": when.as_dict(),
               "audience": tokens}
    await ctx.services.conversations.start_preview(
        ctx.session, ctx.chat_key, ctx.user.id, CONFIRM_KIND, payload,
        requires=_requires(ctx, {"note": "remind"}.get(kind, kind), tokens))
    title = _(KIND_TITLES[kind])
    return Reply(await _preview(ctx, title, text, when, tokens, audience_text),
                 confirm_choices())


def _parse_when(ctx: Context, text: str) -> When:
    return parse_when(text, current_locale(), ctx.user.timezone or ctx.services.settings.timezone,
                      ctx.services.clock.now())


async def _audience(ctx: Context, text: str) -> list[str]:
    """Parses and checks the audience: addressing anyone but oneself needs a coordinator."""
    tokens = await audiences.read(ctx, text)
    if _for_others(ctx, tokens) and not ctx.can("reminders.address_others"):
        raise AudienceError(_("Only coordinators can send reminders to others; yours can go to "
                              "yourself, in a direct chat with me. Your role is {role}.").format(
                                  role=role_label(ctx.role)))
    return tokens


def _requires(ctx: Context, action: str, tokens: list[str] | None,
              schedule: Schedule | None = None) -> list[str]:
    """The policy actions a preview needs again when it is confirmed."""
    needed = [action]
    if tokens and _for_others(ctx, tokens):
        needed.append("reminders.address_others")
    if schedule is not None and schedule.owner_id != ctx.user.id:
        needed.append("reminders.manage_any")
    return needed


def _for_others(ctx: Context, tokens: list[str]) -> bool:
    own_chats = {ctx.chat_key} if ctx.message.is_direct else set()
    return not only_self(tokens, ctx.user.id, own_chats)


def _privileged(ctx: Context, schedule: Schedule) -> bool:
    """Changes to someone else's schedule, or to one addressing others, are audited; a
    person's reminders to themselves are their own business."""
    return schedule.owner_id != ctx.user.id or _for_others(ctx, list(schedule.audience or []))


async def _audit(ctx: Context, action: str, schedule: Schedule, new_audience=None,
                 **details) -> None:
    if _privileged(ctx, schedule) or (new_audience and _for_others(ctx, new_audience)):
        await audit.record(ctx.session, ctx.user.id, action, f"schedule:{schedule.id}",
                           {"owner": schedule.owner_id, **details}, at=ctx.services.clock.now())


async def _preview(ctx: Context, title: str, text: str, when: When, tokens: list[str],
                   audience_text: str | None = None) -> str:
    tz = ctx.user.timezone or when.timezone
    upcoming = when.recurrence().next_occurrences(ctx.services.clock.now(), 3)
    lines = [bold(title), _("Text: {text}").format(text=escape(text)),
             _("To: {audience}").format(audience=await _describe(ctx, tokens))]
    if _for_others(ctx, tokens):
        lines.append(await audiences.recipients_preview(ctx, tokens, audience_text))
    label = _("Next times:") if when.recurring else _("When:")
    lines.append(label + " " + "; ".join(moment(o, tz) for o in upcoming))
    if when.leads_minutes:
        lines.append(_("Also reminded {delays} before.").format(
            delays=", ".join(duration_text(m) for m in when.leads_minutes)))
    if when.skip_holidays:
        lines.append(_("Skips Belgian public holidays."))
    lines.append(_("Confirm?"))
    return "\n".join(lines)


def duration_text(minutes: int) -> str:
    return duration(timedelta(minutes=minutes))


async def _describe(ctx: Context, tokens: list[str]) -> str:
    return escape(await describe(ctx.session, ctx.services.directory, tokens, ctx.chat_key))


# --- confirmation -----------------------------------------------------------------------------

async def _save(ctx: Context, payload: dict[str, Any]) -> HandlerResult:
    return await CONFIRMED[payload["action"]](ctx, payload)


async def _confirmed_create(ctx: Context, payload: dict):
    service = _service(ctx)
    when = When.from_dict(payload["when"]).settled(ctx.services.clock.now())
    if not when.recurrence().next_occurrences(ctx.services.clock.now(), 1):
        return _("That time has passed while you were confirming; nothing was saved.")
    schedule = await service.create(ctx.session, kind=payload["kind"], message=payload["text"],
                                    when=when, audience=payload["audience"], owner=ctx.user,
                                    origin_chat=ctx.chat_key)
    await _audit(ctx, f"reminders.create_{schedule.kind}", schedule)
    ctx.after_commit.append(service.wake)
    return _saved(ctx, schedule)


def _saved(ctx: Context, schedule: Schedule) -> str:
    upcoming = _service(ctx).upcoming(schedule, 1)
    tz = ctx.user.timezone or schedule.timezone
    when = moment(upcoming[0], tz) if upcoming else "—"
    return _("Saved as {id}. Next: {when}. To cancel: {prefix}cancel {id}; to skip the next "
             "one: {prefix}skip {id}.").format(id=short_id(schedule.id), when=when,
                                               prefix=ctx.prefix)


async def _confirmed_edit(ctx: Context, payload: dict):
    service = _service(ctx)
    schedule = await service.get(ctx.session, payload["schedule_id"])
    if schedule is None or not schedule.active:
        return _("That reminder no longer exists; nothing was changed.")
    when = (When.from_dict(payload["when"]).settled(ctx.services.clock.now())
            if payload.get("when") else None)
    changed = [name for name in ("when", "text", "audience") if payload.get(name) is not None]
    # Before the update: a schedule that addressed others, or will, is audited.
    await _audit(ctx, "reminders.edit", schedule, payload.get("audience"), changed=changed)
    await service.update(ctx.session, schedule, when=when, message=payload.get("text"),
                         audience=payload.get("audience"))
    ctx.after_commit.append(service.wake)
    return _saved(ctx, schedule)


async def _confirmed_broadcast(ctx: Context, payload: dict):
    service = _service(ctx)
    broadcast, count = await service.create_broadcast(
        ctx.session, ctx.user, ctx.chat_key, payload["text"], payload["audience"])
    await audit.record(ctx.session, ctx.user.id, "broadcast.send", f"broadcast:{broadcast.id}",
                       {"chats": count}, at=ctx.services.clock.now())
    ctx.after_commit.append(service.wake)
    return ngettext("Broadcast B{id} is on its way to {count} chat; I will send you a "
                    "delivery report.", "Broadcast B{id} is on its way to {count} chats; I will "
                    "send you a delivery report.", count).format(id=broadcast.id, count=count)


CONFIRMED = {"create": _confirmed_create, "edit": _confirmed_edit,
             "broadcast": _confirmed_broadcast}


# --- managing ---------------------------------------------------------------------------------

async def list_reminders(ctx: Context):
    service = _service(ctx)
    schedules = await service.visible(ctx.session, ctx.user, ctx.chat_key,
                                      everything=ctx.can("reminders.manage_any"))
    if not schedules:
        return _("No reminders yet. Create one with {prefix}remind WHEN; TEXT.").format(
            prefix=ctx.prefix)
    tz = ctx.user.timezone or ctx.services.settings.timezone
    lines = [_("Reminders ({count}):").format(count=len(schedules))]
    for schedule in schedules[:MAX_LISTED]:
        upcoming = service.upcoming(schedule, 1)
        when = moment(upcoming[0], tz) if upcoming else "—"
        repeat = " ↻" if schedule.rrule else ""
        entry = _("{kind}: {title}").format(kind=_(KIND_LABELS[schedule.kind]),
                                            title=escape(schedule.title))
        lines.append(f"• `{short_id(schedule.id)}` {entry} — {when}{repeat}")
    if len(schedules) > MAX_LISTED:
        more = len(schedules) - MAX_LISTED
        lines.append(ngettext("… and {count} more.", "… and {count} more.", more).format(
            count=more))
    return "\n".join(lines)


async def _managed(ctx: Context, word: str, *, active: bool = True) -> Schedule:
    """The reminder named by `word` if this person may manage it (UserError otherwise).
    `active=False` also finds finished ones (a one-off meeting's answers come in after it
    was delivered, when it is no longer active)."""
    schedule_id = parse_short_id(word) if word else None
    if schedule_id is None:
        raise UserError(ctx.usage())
    schedule = await _service(ctx).get(ctx.session, schedule_id)
    mine = schedule is not None and (schedule.owner_id == ctx.user.id
                                     or ctx.can("reminders.manage_any"))
    if schedule is None or not mine or (active and not schedule.active):
        raise UserError(_("There is no active reminder {id} that you may manage. {prefix}"
                          "reminders lists yours.").format(id=escape(word[:20]),
                                                           prefix=ctx.prefix))
    return schedule


async def cancel(ctx: Context):
    schedule = await _managed(ctx, ctx.args.split(";")[0].strip())
    await _service(ctx).cancel(ctx.session, schedule)
    await _audit(ctx, "reminders.cancel", schedule)
    ctx.after_commit.append(_service(ctx).replan)
    return _("Reminder {id} ({title}) is cancelled.").format(id=short_id(schedule.id),
                                                            title=escape(schedule.title))


async def skip(ctx: Context):
    schedule = await _managed(ctx, ctx.args.strip())
    skipped, following = await _service(ctx).skip_next(ctx.session, schedule)
    if skipped is not None:
        await _audit(ctx, "reminders.skip", schedule, occurrence=skipped.isoformat())
    ctx.after_commit.append(_service(ctx).replan)
    tz = ctx.user.timezone or schedule.timezone
    if skipped is None:
        return _("Reminder {id} has no upcoming time to skip.").format(id=short_id(schedule.id))
    if following is None:
        return _("Skipped {when}; that was the last time of {id}.").format(
            when=moment(skipped, tz), id=short_id(schedule.id))
    return _("Skipped {when}. Next: {next}.").format(when=moment(skipped, tz),
                                                     next=moment(following, tz))


async def edit(ctx: Context) -> HandlerResult:
    parts = _parts(ctx.args)
    if len(parts) < 2:
        return ctx.usage()
    schedule = await _managed(ctx, parts[0])
    when_text, text, audience_text = (_changed(parts, 1), _changed(parts, 2),
                                      _changed(parts, 3, whole=True))
    if when_text is None and text is None and audience_text is None:
        return ctx.usage()
    try:
        when = _parse_when(ctx, when_text) if when_text else None
        tokens = await _audience(ctx, audience_text) if audience_text else None
    except WhenError as problem:
        return escape(str(problem))
    except AudienceError as problem:
        return await audiences.ask_back(ctx, problem,
                                        lambda new: "; ".join([*parts[:3], new]))
    await ctx.services.conversations.start_preview(
        ctx.session, ctx.chat_key, ctx.user.id, CONFIRM_KIND,
        {"action": "edit", "schedule_id": schedule.id, "text": text,
         "when": when.as_dict() if when else None, "audience": tokens},
        requires=_requires(ctx, "edit", tokens, schedule))
    title = _("Change {id}").format(id=short_id(schedule.id))
    return Reply(await _preview(ctx, title, text or schedule.message,
                                when or _current_when(schedule),
                                tokens or list(schedule.audience or []), audience_text),
                 confirm_choices())


def _changed(parts: list[str], index: int, *, whole: bool = False) -> str | None:
    """Part `index` of /edit, None when absent or "-" (unchanged); `whole` keeps the rest."""
    if len(parts) <= index or parts[index] in {"", "-"}:
        return None
    return "; ".join(parts[index:]) if whole else parts[index]


def _current_when(schedule: Schedule) -> When:
    return When(parse_local(schedule.start_local), schedule.timezone, schedule.rrule,
                tuple(schedule.leads_minutes or ()), schedule.skip_holidays,
                tuple(schedule.exdates or ()))


# --- acknowledgements -------------------------------------------------------------------------

async def acks(ctx: Context):
    schedule = await _managed(ctx, ctx.args.strip(), active=False)
    if schedule.kind == "note":
        return _("{id} is a plain reminder; only meetings and deadlines collect answers.").format(
            id=short_id(schedule.id))
    occurrence, answers = await _service(ctx).acknowledgements(ctx.session, schedule)
    if occurrence is None:
        return _("Nobody has answered {id} yet.").format(id=short_id(schedule.id))
    tz = ctx.user.timezone or schedule.timezone
    lines = [_("Answers to {id} ({title}) for {when}:").format(
        id=short_id(schedule.id), title=escape(schedule.title), when=moment(occurrence, tz))]
    for value in ACK_ANSWERS:
        names = [escape(name) for name, answer in answers if answer == value]
        if names:
            lines.append(f"• {ack_count(value, len(names))}: {', '.join(names)}")
    return "\n".join(lines)


# --- broadcasts and calendar ------------------------------------------------------------------

async def broadcast(ctx: Context):
    parts = _parts(ctx.args)
    if len(parts) < 2 or not parts[0] or not "; ".join(parts[1:]).strip():
        return ctx.usage()
    text = "; ".join(parts[1:])
    if len(text) > MAX_TEXT:
        return _("The message is too long (at most {limit} characters).").format(limit=MAX_TEXT)
    try:
        tokens = await _audience(ctx, parts[0])
    except AudienceError as problem:
        return await audiences.ask_back(ctx, problem, lambda new: f"{new}; {text}")
    recipients, unreachable = await _service(ctx).broadcast_recipients(ctx.session, tokens)
    if not recipients:
        return _("Nobody in that audience can be reached: nothing to send.")
    lines = [bold(_("Broadcast to {audience}:").format(audience=await _describe(ctx, tokens))),
             escape(text), await audiences.recipients_preview(ctx, tokens, parts[0])]
    never_wrote = [u for u in unreachable if u.reason != BLOCKED]
    blocked = [u for u in unreachable if u.reason == BLOCKED]
    if never_wrote:
        lines.append(_("Not reachable (never wrote to me): {names}.").format(
            names=", ".join(escape(u.name) for u in never_wrote[:20])))
    if blocked:
        lines.append(_("Unreachable (blocked the bot): {names}.").format(
            names=", ".join(escape(u.name) for u in blocked[:20])))
    lines.append(_("Send it?"))
    await ctx.services.conversations.start_preview(
        ctx.session, ctx.chat_key, ctx.user.id, CONFIRM_KIND,
        {"action": "broadcast", "text": text, "audience": tokens}, requires=["broadcast"])
    return Reply("\n".join(lines), confirm_choices())


async def calendar(ctx: Context) -> HandlerResult:
    count, content = await _service(ctx).calendar_file(ctx.session, ctx.user, ctx.chat_key)
    if content is None:
        return _("You have no meetings or deadlines to put in a calendar yet.")
    return Reply(_("Your meetings and deadlines ({count}), to import in your calendar "
                   "(Outlook, Google, Apple).").format(count=count),
                 attachment=Attachment("coordbot.ics", content, "text/calendar"))


FEATURE = Feature(
    name="reminders",
    commands=[
        Command("remind", remind, N_("a reminder for you or, for coordinators, for others"),
                N_("/remind WHEN; TEXT[; AUDIENCE]")),
        Command("meeting", meeting, N_("a meeting reminder with attendance answers"),
                N_("/meeting WHEN; TEXT[; AUDIENCE]")),
        Command("deadline", deadline, N_("a deadline reminder with a Done answer"),
                N_("/deadline WHEN; TEXT[; AUDIENCE]")),
        Command("reminders", list_reminders, N_("the reminders you can see, with their ids"),
                N_("/reminders")),
        Command("cancel", cancel, N_("cancel a reminder"), N_("/cancel ID")),
        Command("skip", skip, N_("skip the next time of a reminder"), N_("/skip ID")),
        Command("edit", edit, N_("change a reminder's time, text or audience"),
                N_("/edit ID; WHEN; TEXT[; AUDIENCE]")),
        Command("acks", acks, N_("who answered a meeting or deadline"), N_("/acks ID")),
        Command("ack", ack, N_("answer a meeting or deadline reminder"),
                N_("/ack ID yes|no|done")),
        Command("broadcast", broadcast, N_("send a message to an audience, with a report"),
                N_("/broadcast AUDIENCE; TEXT")),
        Command("calendar", calendar, N_("your meetings and deadlines as a calendar file"),
                N_("/calendar")),
    ],
    conversations=[ConversationStep(CONFIRM_KIND, confirm_step(_save), confirms=True),
                   ConversationStep(ACK_KIND, ack_step, reads=ack_reads)],
)
