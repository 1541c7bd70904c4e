"""Answering check-ins: `/checkin`, the answering conversation, and `/away`.

Editing a submitted answer is `/checkin edit [FORM]`: outside a check-in, `/edit ID; …`
belongs to reminders, so check-ins do not register `/edit` as a command. While a check-in
conversation is pending, its step claims `/skip`, `/back`, `/cancel` and `/edit` (the last
one: "change one of my answers"); the same words followed by arguments are reminder commands,
and the step says so instead of guessing."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo

from bot.checkins import texts
from bot.checkins.answering import Progress
from bot.checkins.answers import fold, review_choice
from bot.checkins.common import CheckinError
from bot.checkins.models import CheckinRound
from bot.checkins.rounds import CONVERSATION_KIND
from bot.checkins.service import CheckinsService
from bot.conversations import PendingConversation, confirmation_answer
from bot.i18n import N_, _, current_locale
from bot.markup import bold, escape
from bot.messages import Reply
from bot.router import Command, Context, ConversationStep, Feature, HandlerResult, UserError
from bot.when import WhenError


def service(ctx: Context) -> CheckinsService:
    checkins: CheckinsService = ctx.services.checkins
    return checkins


def user_tz(ctx: Context) -> ZoneInfo:
    return service(ctx).tz_of(ctx.user)


@contextmanager
def told_to_user() -> Iterator[None]:
    """What check-ins refuse becomes the router's answer (and nothing the message changed is
    kept). A time the bot cannot read quotes the person's words, so it is escaped."""
    try:
        yield
    except CheckinError as refused:
        raise UserError(str(refused)) from None
    except WhenError as problem:
        raise UserError(escape(str(problem))) from None


def _show(ctx: Context, progress: Progress, round_: CheckinRound, *,
          with_notes: bool = True) -> Reply:
    if progress.reviewing:
        return texts.review(progress.form, progress.draft, progress.relevant_indexes(),
                            deadline=round_.deadline, tz=user_tz(ctx), prefix=ctx.prefix)
    return texts.question(progress.form, progress.assignment.current, progress.draft,
                          prefix=ctx.prefix, with_notes=with_notes)


async def start_checkin(ctx: Context) -> HandlerResult:
    """`/checkin [FORM]` answers or resumes; `/checkin edit [FORM]` reopens a submitted one."""
    words = ctx.args.split()
    editing = bool(words) and words[0].lower() == "edit"
    code = words[1] if editing and len(words) > 1 else (words[0] if words and not editing
                                                         else "")
    answering = service(ctx).answering
    with told_to_user():
        assignment, round_ = await answering.choose(ctx.session, ctx.user.id, code,
                                                    editing=editing, prefix=ctx.prefix)
    await answering.begin(ctx.session, assignment, round_, ctx.chat_key, ctx.user.id,
                          edit=editing)
    progress = answering.progress(assignment, round_)
    head = _("Check-in {title} (round {number}), answer by {deadline}.").format(
        title=bold(progress.form.title(current_locale())), number=round_.number,
        deadline=texts.when(round_.deadline, user_tz(ctx)))
    shown = _show(ctx, progress, round_)
    return Reply(head + "\n" + shown.text, shown.choices)


async def answer_step(ctx: Context, pending: PendingConversation) -> HandlerResult:
    answering = service(ctx).answering
    found = await answering.open_assignment(ctx.session,
                                            int(pending.payload.get("assignment", 0)))
    if found is None:
        await ctx.services.conversations.end(ctx.session, ctx.chat_key, ctx.user.id)
        return _("This check-in is closed. Send {prefix}help to see what you can do.").format(
            prefix=ctx.prefix)
    assignment, round_ = found
    progress = answering.progress(assignment, round_)
    editing = bool(pending.payload.get("edit"))
    if ctx.command and ctx.args:
        return _("You are answering a check-in. Finish it or send {prefix}cancel (nothing "
                 "after it) to stop, then {prefix}{command} {args} will work.").format(
                     prefix=ctx.prefix, command=ctx.command, args=escape(ctx.args[:60]))
    if editing and not answering.editable(round_):
        await answering.discard_edit(ctx.session, assignment)
        await ctx.services.conversations.end(ctx.session, ctx.chat_key, ctx.user.id)
        return _("The deadline has passed: your submitted answers stay as they were.")
    if ctx.command == "cancel":
        return await _stop(ctx, progress, editing)
    if ctx.command == "edit" or pending.payload.get("mode") == "pick":
        return await _pick(ctx, pending, progress, round_)
    if progress.reviewing:
        return await _review_answer(ctx, pending, progress, round_)
    if ctx.command == "back":
        if progress.back():
            return _show(ctx, progress, round_, with_notes=False)
        return [_("This is the first question."), _show(ctx, progress, round_, with_notes=False)]
    return await _answer(ctx, pending, progress, round_)


async def answer_reads(ctx: Context, pending: PendingConversation) -> list[tuple[str, str]]:
    """Whether the message answers the check-in (beside a reminder waiting for an answer,
    `1` may be either): a valid answer to the current question, or to the summary."""
    answering = service(ctx).answering
    found = await answering.open_assignment(ctx.session,
                                            int(pending.payload.get("assignment", 0)))
    if found is None:
        return []
    progress = answering.progress(*found)
    text = ctx.message.text.strip()
    if pending.payload.get("mode") == "pick" or progress.reviewing:
        takes = text.isdecimal() or text.lower() in {"submit", "change"} \
            or confirmation_answer(text) is not None
    else:
        takes = progress.reads(text, current_locale())[1] is None
    title = progress.form.title(current_locale())  # a choice's label: plain text
    if not takes:
        return []
    if progress.reviewing:
        return [("", _("Check-in “{title}”: sending your answers").format(title=title))]
    return [("", _("Check-in “{title}”, question {number}").format(
        title=title, number=texts.position(progress.form, progress.assignment.current)[0]))]


async def _stop(ctx: Context, progress: Progress, editing: bool) -> str:
    await ctx.services.conversations.end(ctx.session, ctx.chat_key, ctx.user.id)
    if editing:
        await service(ctx).answering.discard_edit(ctx.session, progress.assignment)
        return _("Stopped. Your submitted answers are unchanged.")
    return _("Stopped. Your answers so far are saved: send {prefix}checkin {form} to "
             "continue where you left off.").format(prefix=ctx.prefix, form=progress.form.code)


async def _pick(ctx: Context, pending: PendingConversation, progress: Progress,
                round_: CheckinRound) -> HandlerResult:
    indexes = progress.changeable()
    if not indexes:
        return [_("There is no answer to change yet."), _show(ctx, progress, round_)]
    payload = dict(pending.payload)
    text = ctx.message.text.strip()
    if ctx.command == "edit" or payload.get("mode") != "pick":
        payload["mode"] = "pick"
        await ctx.services.conversations.update(ctx.session, pending, payload)
        return texts.pick_question(progress.form, indexes, ctx.prefix)
    if not text.isdecimal() or not progress.change(int(text)):
        return [_("Please send a number between 1 and {count}.").format(count=len(indexes)),
                texts.pick_question(progress.form, indexes, ctx.prefix)]
    payload["mode"], payload["return"] = None, True
    await ctx.services.conversations.update(ctx.session, pending, payload)
    return _show(ctx, progress, round_, with_notes=False)


async def _review_answer(ctx: Context, pending: PendingConversation, progress: Progress,
                         round_: CheckinRound) -> HandlerResult:
    text = ctx.message.text.strip().lower()
    said = review_choice(text) if ctx.command is None else None
    if ctx.command == "back":
        progress.leave_review()
        return _show(ctx, progress, round_, with_notes=False)
    if said == "change" or _is_label(text, _("Change an answer")):
        return await _pick(ctx, pending, progress, round_)
    if said == "submit" or _is_label(text, _("Submit")):
        return await _submit(ctx, progress, round_)
    return [_("Send 1 to submit or 2 to change an answer."), _show(ctx, progress, round_)]


def _is_label(text: str, label: str) -> bool:
    """The button's own words typed back, in the person's language."""
    return fold(text) == fold(label)


async def _submit(ctx: Context, progress: Progress, round_: CheckinRound) -> str:
    answering = service(ctx).answering
    first_time = await answering.submit(ctx.session, progress.assignment, round_)
    await ctx.services.conversations.end(ctx.session, ctx.chat_key, ctx.user.id)
    deadline = texts.when(round_.deadline, user_tz(ctx))
    if progress.assignment.late and first_time:
        lines = [_("Thank you, your answers are recorded (late: the deadline was {deadline}).")
                 .format(deadline=deadline)]
    elif first_time:
        lines = [_("Thank you, your answers are recorded. You can change them until "
                   "{deadline} with {prefix}checkin edit {form}.").format(
                       deadline=deadline, prefix=ctx.prefix, form=progress.form.code)]
    else:
        lines = [_("Your changes are recorded.")]
    waiting = await answering.waiting_forms(ctx.session, ctx.user.id)
    if waiting:
        lines.append(_("Another check-in is waiting for you: send {prefix}checkin {form}.")
                     .format(prefix=ctx.prefix, form=waiting[0]))
    return "\n".join(lines)


async def _answer(ctx: Context, pending: PendingConversation, progress: Progress,
                  round_: CheckinRound) -> HandlerResult:
    returning = bool(pending.payload.get("return"))
    if ctx.command == "skip":
        problem = progress.skip(returning=returning)
    else:
        today = ctx.services.clock.now().astimezone(user_tz(ctx)).date()
        problem = progress.answer(ctx.message.text, current_locale(), today,
                                  returning=returning)
    if problem:
        return [problem, _show(ctx, progress, round_, with_notes=False)]
    if returning and progress.reviewing:
        await ctx.services.conversations.update(ctx.session, pending,
                                                {**pending.payload, "return": False})
    return _show(ctx, progress, round_)


# ----- absences --------------------------------------------------------------------------

async def away(ctx: Context) -> HandlerResult:
    absences = service(ctx).absences
    words = ctx.args.split()
    if not words:
        declared = await absences.of(ctx.session, ctx.user.id)
        if not declared:
            return _("No absence declared. To pause check-in nudges: {prefix}away FROM TO, "
                     "e.g. {prefix}away 2026-12-24 2027-01-02.").format(prefix=ctx.prefix)
        return "\n".join([_("Check-in nudges are paused:")] + [
            _("• from {start} to {end}").format(start=a.starts_on.isoformat(),
                                               end=a.ends_on.isoformat()) for a in declared])
    if words[0].lower() in {"clear", "off", "none"}:
        count = await absences.clear(ctx.session, ctx.user.id)
        return _("Absences removed: {count}. Nudges resume.").format(count=count)
    today = ctx.services.clock.now().astimezone(user_tz(ctx)).date()
    try:
        starts, ends = absences.absence_dates(ctx.args, today)
    except WhenError as problem:
        return [escape(str(problem)), ctx.usage()]
    await absences.add(ctx.session, ctx.user.id, starts, ends)
    return _("Check-in nudges are paused from {start} to {end} (both included). You can still "
             "answer any time.").format(start=starts.isoformat(), end=ends.isoformat())


FEATURE = Feature(
    name="checkins",
    commands=[
        Command("checkin", start_checkin, N_("answer a check-in, or change your answers"),
                N_("/checkin [FORM] or /checkin edit [FORM]"), direct_only=True,
                direct_reason=N_("Please answer check-ins in a direct chat with me, not in a "
                                 "group.")),
        Command("away", away, N_("pause check-in nudges while you are away"),
                N_("/away FROM TO, /away, /away clear")),
    ],
    conversations=[
        ConversationStep(CONVERSATION_KIND, answer_step,
                         frozenset({"skip", "back", "cancel", "edit"}), reads=answer_reads),
    ],
)
