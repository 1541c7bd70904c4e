"""Check-in commands and the answering conversation.

Editing a submitted answer is `/checkin edit [FORM]`: outside a check-in, `/edit ID; …`
belongs to reminders, so check-ins do not register `/edit` as a command. While a check-in
conversation is pending, its step claims `/skip`, `/back`, `/cancel` and `/edit` (the last
one: "change one of my answers"); the same words followed by arguments are reminder commands,
and the step says so instead of guessing."""
from __future__ import annotations

import asyncio
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.audience import AudienceError, recipients_line
from bot.checkins import reports, texts
from bot.checkins.forms import FormError, load_form
from bot.checkins.models import SUBMITTED, aware
from bot.checkins.answers import fold, review_choice
from bot.checkins.explain import describe_condition, type_label
from bot.checkins.service import CONVERSATION_KIND, next_question, previous_question
from bot.conversations import confirmation_answer
from bot.handlers import audience as audiences
from bot.i18n import N_, _, current_locale, ngettext
from bot.markup import bold, escape
from bot.messages import Attachment, Choice, Reply
from bot.router import Command, Context, ConversationStep, Feature
from bot.trust import audit
from bot.when import WhenError

OPEN_ROUND_KIND = "checkins.open_round"
MAX_FORM_FILE = 1_000_000


def _svc(ctx: Context):
    return ctx.services.checkins


def _tz(ctx: Context) -> ZoneInfo:
    return _svc(ctx).tz_of(ctx.user)


MAX_AUDIENCE = 500  # CheckinRound.audience


def _split(args: str) -> list[str]:
    return [part.strip() for part in args.split(";")]


# ----- answering -------------------------------------------------------------------------

def _relevant_indexes(form, answers) -> list[int]:
    return [i for i, q in enumerate(form.questions) if q.answerable and q.is_relevant(answers)]


def _next_missing(form, answers) -> int | None:
    return next((i for i in _relevant_indexes(form, answers)
                 if form.questions[i].name not in answers), None)


def _show(ctx: Context, form, assignment, round_, *, with_notes: bool = True) -> Reply:
    draft = assignment.draft or {}
    if assignment.confirming:
        return texts.review(form, draft, _relevant_indexes(form, draft),
                            deadline=aware(round_.deadline), tz=_tz(ctx), prefix=ctx.prefix)
    return texts.question(form, assignment.current, draft, prefix=ctx.prefix,
                          with_notes=with_notes)


async def start_checkin(ctx: Context):
    """`/checkin [FORM]` answers or resumes; `/checkin edit [FORM]` reopens a submitted one."""
    if not ctx.message.is_direct:
        return _("Please answer check-ins in a direct chat with me, not in a group.")
    words = ctx.args.split()
    editing = bool(words) and words[0].lower() == "edit"
    code = (words[1] if editing and len(words) > 1 else (words[0] if words and not editing
                                                          else "")).lower()
    svc = _svc(ctx)
    mine = [(a, r, c) for a, r, c in await svc.assignments_of(ctx.session, ctx.user.id)
            if not code or c.lower() == code]
    if editing:
        candidates = [(a, r) for a, r, _c in mine if a.status == SUBMITTED and svc.editable(r)]
        if not candidates:
            late = [a for a, r, _c in mine if a.status == SUBMITTED]
            return (_("The deadline has passed: submitted answers can no longer be changed.")
                    if late else _("You have no submitted check-in that can still be changed."))
    else:
        candidates = [(a, r) for a, r, _c in mine if a.status != SUBMITTED and svc.answerable(r)]
        if not candidates:
            return _("No check-in is waiting for you. To change submitted answers before the "
                     "deadline, send {prefix}checkin edit FORM.").format(prefix=ctx.prefix)
    assignment, round_ = candidates[0]
    await svc.begin(ctx.session, assignment, round_, ctx.chat_key, ctx.user.id, edit=editing)
    form = svc.form_of(round_)
    head = _("Check-in {title} (round {number}), answer by {deadline}.").format(
        title=bold(form.title(current_locale())), number=round_.number,
        deadline=texts.when(aware(round_.deadline), _tz(ctx)))
    shown = _show(ctx, form, assignment, round_)
    return Reply(head + "\n" + shown.text, shown.choices)


async def answer_step(ctx: Context, pending):
    svc = _svc(ctx)
    found = await svc.assignment(ctx.session, int(pending.payload.get("assignment", 0)))
    if found is None or not svc.answerable(found[1]):
        await ctx.services.conversations.end(ctx.session, ctx.chat_key, ctx.user.id)
        return _("This check-in is closed. Send {prefix}help to see what you can do.").format(
            prefix=ctx.prefix)
    assignment, round_ = found
    form = svc.form_of(round_)
    editing = bool(pending.payload.get("edit"))
    if ctx.command and ctx.args:
        return _("You are answering a check-in. Finish it or send {prefix}cancel (nothing "
                 "after it) to stop, then {prefix}{command} {args} will work.").format(
                     prefix=ctx.prefix, command=ctx.command, args=escape(ctx.args[:60]))
    if editing and not svc.editable(round_):
        await svc.discard_edit(ctx.session, assignment)
        await ctx.services.conversations.end(ctx.session, ctx.chat_key, ctx.user.id)
        return _("The deadline has passed: your submitted answers stay as they were.")
    if ctx.command == "cancel":
        return await _stop(ctx, assignment, form, editing)
    if ctx.command == "edit" or pending.payload.get("mode") == "pick":
        return await _pick(ctx, pending, assignment, round_, form)
    if assignment.confirming:
        return await _review_answer(ctx, pending, assignment, round_, form)
    if ctx.command == "back":
        return await _back(ctx, assignment, round_, form)
    return await _answer(ctx, pending, assignment, round_, form)


async def answer_reads(ctx: Context, pending) -> list[tuple[str, str]]:
    """Whether the message answers the check-in (beside a reminder waiting for an answer,
    `1` may be either): a valid answer to the current question, or to the summary."""
    svc = _svc(ctx)
    found = await svc.assignment(ctx.session, int(pending.payload.get("assignment", 0)))
    if found is None or not svc.answerable(found[1]):
        return []
    assignment, round_ = found
    form = svc.form_of(round_)
    text = ctx.message.text.strip()
    if pending.payload.get("mode") == "pick" or assignment.confirming:
        takes = text.isdecimal() or text.lower() in {"submit", "change"} \
            or confirmation_answer(text) is not None
    else:
        question = form.questions[assignment.current]
        _value, problem = question.parse_answer(text, dict(assignment.draft or {}),
                                                current_locale(), form.default_language)
        takes = problem is None
    title = form.title(current_locale())  # a choice's label: plain text
    if not takes:
        return []
    if assignment.confirming:
        return [("", _("Check-in “{title}”: sending your answers").format(title=title))]
    return [("", _("Check-in “{title}”, question {number}").format(
        title=title, number=texts.position(form, assignment.current)[0]))]


async def _stop(ctx: Context, assignment, form, editing: bool):
    await ctx.services.conversations.end(ctx.session, ctx.chat_key, ctx.user.id)
    if editing:
        await _svc(ctx).discard_edit(ctx.session, assignment)
        return _("Stopped. Your submitted answers are unchanged.")
    return _("Stopped. Your answers so far are saved: send {prefix}checkin {form} to "
             "continue where you left off.").format(prefix=ctx.prefix, form=form.code)


async def _pick(ctx: Context, pending, assignment, round_, form):
    draft = assignment.draft or {}
    indexes = [i for i in _relevant_indexes(form, draft) if form.questions[i].name in draft]
    if not indexes:
        return [_("There is no answer to change yet."), _show(ctx, form, assignment, round_)]
    payload = dict(pending.payload)
    text = ctx.message.text.strip()
    if ctx.command == "edit" or payload.get("mode") != "pick":
        payload["mode"] = "pick"
        await ctx.services.conversations.update(ctx.session, pending, payload)
        return texts.pick_question(form, indexes, ctx.prefix)
    if not text.isdecimal() or not 1 <= int(text) <= len(indexes):
        return [_("Please send a number between 1 and {count}.").format(count=len(indexes)),
                texts.pick_question(form, indexes, ctx.prefix)]
    payload["mode"], payload["return"] = None, True
    assignment.current, assignment.confirming = indexes[int(text) - 1], False
    await ctx.services.conversations.update(ctx.session, pending, payload)
    return texts.question(form, assignment.current, draft, prefix=ctx.prefix, with_notes=False)


async def _review_answer(ctx: Context, pending, assignment, round_, form):
    text = ctx.message.text.strip().lower()
    said = review_choice(text) if ctx.command is None else None
    if ctx.command == "back":
        assignment.confirming = False
        last = previous_question(form, assignment.draft or {}, len(form.questions))
        assignment.current = last if last is not None else assignment.current
        return _show(ctx, form, assignment, round_, with_notes=False)
    if said == "change" or _is_label(text, _("Change an answer")):
        return await _pick(ctx, pending, assignment, round_, form)
    if said == "submit" or _is_label(text, _("Submit")):
        return await _submit(ctx, assignment, round_, form)
    return [_("Send 1 to submit or 2 to change an answer."),
            _show(ctx, form, assignment, round_)]


def _is_label(text: str, label: str) -> bool:
    """The button's own words typed back, in the person's language."""
    return fold(text) == fold(label)


async def _submit(ctx: Context, assignment, round_, form):
    svc = _svc(ctx)
    first_time = assignment.submitted_at is None
    await svc.submit(ctx.session, assignment, round_)
    await ctx.services.conversations.end(ctx.session, ctx.chat_key, ctx.user.id)
    deadline = texts.when(aware(round_.deadline), _tz(ctx))
    if assignment.late and first_time:
        lines = [_("Thank you, your answers are recorded (late: the deadline was {deadline}).")
                 .format(deadline=deadline)]
    elif first_time:
        lines = [_("Thank you, your answers are recorded. You can change them until "
                   "{deadline} with {prefix}checkin edit {form}.").format(
                       deadline=deadline, prefix=ctx.prefix, form=form.code)]
    else:
        lines = [_("Your changes are recorded.")]
    waiting = [c for a, r, c in await svc.assignments_of(ctx.session, ctx.user.id)
               if a.status != SUBMITTED and svc.answerable(r)]
    if waiting:
        lines.append(_("Another check-in is waiting for you: send {prefix}checkin {form}.")
                     .format(prefix=ctx.prefix, form=waiting[0]))
    return "\n".join(lines)


async def _back(ctx: Context, assignment, round_, form):
    previous = previous_question(form, assignment.draft or {}, assignment.current)
    if previous is None:
        return [_("This is the first question."),
                _show(ctx, form, assignment, round_, with_notes=False)]
    assignment.current = previous
    return _show(ctx, form, assignment, round_, with_notes=False)


async def _answer(ctx: Context, pending, assignment, round_, form):
    question = form.questions[assignment.current]
    draft = dict(assignment.draft or {})
    if ctx.command == "skip":
        if draft.get(question.name) is None:
            if question.required:
                return [_("This question needs an answer."),
                        _show(ctx, form, assignment, round_, with_notes=False)]
            draft[question.name] = None
    else:
        today = ctx.services.clock.now().astimezone(_tz(ctx)).date()
        value, problem = form.parse_answer(question.name, ctx.message.text, draft,
                                           current_locale(), today=today)
        if problem:
            return [problem, _show(ctx, form, assignment, round_, with_notes=False)]
        draft[question.name] = value
    assignment.draft = draft
    following = None if pending.payload.get("return") else next_question(
        form, draft, assignment.current)
    if following is None:
        following = _next_missing(form, draft)
    if following is None:
        assignment.confirming = True
        if pending.payload.get("return"):
            await ctx.services.conversations.update(
                ctx.session, pending, {**pending.payload, "return": False})
    else:
        assignment.current = following
    return _show(ctx, form, assignment, round_)


# ----- coordinators: forms, rounds, results, export ---------------------------------------

async def list_forms(ctx: Context):
    svc = _svc(ctx)
    words = ctx.args.split()
    if words and words[0].lower() == "add":
        return await _add_form(ctx)
    if words:
        row = await svc.form_row(ctx.session, words[0])
        if row is None:
            return await _unknown_form(ctx, words[0])
        return _describe_form(svc.form_of_row(row))
    rows = await svc.forms(ctx.session)
    if not rows:
        return _("No forms yet. Send an XLSForm (.xlsx) or YAML file with the caption "
                 "{prefix}forms add.").format(prefix=ctx.prefix)
    lines = [_("Check-in forms:")]
    for row in rows:
        form = svc.form_of_row(row)
        lines.append(f"• `{row.code}`: {escape(form.title(current_locale()))} ("
                     + ngettext("{count} question", "{count} questions",
                                len(form.answerable)).format(count=len(form.answerable)) + ")")
    lines.append(_("Open a round: {prefix}rounds open FORM; DEADLINE; AUDIENCE").format(
        prefix=ctx.prefix))
    return "\n".join(lines)


def _describe_form(form) -> str:
    locale = current_locale()
    lines = [bold(form.title(locale)) + f" (`{form.code}`, {form.version or '-'})"]
    for number, q in enumerate(form.answerable, 1):
        flags = []
        if q.required:
            flags.append(_("required"))
        if q.personal:
            flags.append(_("personal data"))
        if q.relevant:
            flags.append(describe_condition(q.relevance, form, form.number_of))
        suffix = f"; {'; '.join(flags)}" if flags else ""
        lines.append(f"{number}. {escape(q.label(locale, form.default_language))} "
                     f"({escape(type_label(q.type) + suffix)})")
    return "\n".join(lines)


async def _add_form(ctx: Context):
    attachment = ctx.message.attachment
    suffix = Path(attachment.filename).suffix.lower() if attachment else ""
    if attachment is None or suffix not in {".xlsx", ".yaml", ".yml"}:
        return _("Attach an XLSForm (.xlsx) or YAML form file to the {prefix}forms add "
                 "message.").format(prefix=ctx.prefix)
    if len(attachment.content) > MAX_FORM_FILE:
        return _("That file is too large for a form (limit 1 MB).")
    try:
        form = await asyncio.to_thread(_parse_upload, attachment.content, suffix)
    except FormError as exc:
        return _("I cannot use this form: {problem}").format(problem=escape(str(exc)[:300]))
    import hashlib
    row, created = await _svc(ctx).save_form(ctx.session, form, attachment.filename,
                                              hashlib.sha256(attachment.content).hexdigest())
    await audit.record(ctx.session, ctx.user.id, "checkins.form_save", f"form:{row.code}",
                       {"created": created}, at=ctx.services.clock.now())
    message = _("Form {code} added.") if created else _("Form {code} updated; rounds "
                                                        "already opened keep their version.")
    return message.format(code=f"`{row.code}`") + "\n" + _describe_form(form)


def _parse_upload(content: bytes, suffix: str):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"form{suffix}"
        path.write_bytes(content)
        return load_form(path)


async def _unknown_form(ctx: Context, code: str):
    codes = ", ".join(f"`{row.code}`" for row in await _svc(ctx).forms(ctx.session))
    return _("Unknown form {code}. Forms: {codes}.").format(code=escape(code[:60]),
                                                            codes=codes or "—")


async def manage_rounds(ctx: Context):
    words = ctx.args.split(maxsplit=1)
    action = words[0].lower() if words else ""
    rest = words[1] if len(words) > 1 else ""
    if action == "open":
        return await _preview_round(ctx, rest)
    if action == "close":
        return await _close_round(ctx, rest)
    if action:
        return ctx.usage()
    return await _list_rounds(ctx)


async def _list_rounds(ctx: Context):
    from sqlalchemy import case, func, select

    from bot.checkins.models import CheckinAssignment

    svc = _svc(ctx)
    rounds = await svc.recent_rounds(ctx.session)
    if not rounds:
        return _("No rounds yet. Open one: {prefix}rounds open FORM; DEADLINE; AUDIENCE").format(
            prefix=ctx.prefix)
    counts = {rid: (total, done) for rid, total, done in await ctx.session.execute(
        select(CheckinAssignment.round_id, func.count(),
               func.sum(case((CheckinAssignment.status == SUBMITTED, 1), else_=0)))
        .where(CheckinAssignment.round_id.in_([r.id for r, _c in rounds]))
        .group_by(CheckinAssignment.round_id))}
    labels = {"scheduled": _("scheduled"), "open": _("open"), "closed": _("closed")}
    lines = [_("Check-in rounds:")]
    for round_, code in rounds:
        total, done = counts.get(round_.id, (0, 0))
        lines.append(_("• `{form}` round {number}: {status}, deadline {deadline}, {done}/{total} "
                       "answered").format(form=code, number=round_.number,
                                          status=labels.get(round_.status, round_.status),
                                          deadline=texts.when(aware(round_.deadline), _tz(ctx)),
                                          done=int(done or 0), total=total))
    return "\n".join(lines)


async def _preview_round(ctx: Context, rest: str):
    parts = _split(rest)
    if len(parts) < 3 or not all(parts[:3]):
        return ctx.usage()
    code, deadline_text, audience = parts[:3]
    svc = _svc(ctx)
    row = await svc.form_row(ctx.session, code)
    if row is None:
        return await _unknown_form(ctx, code)
    tz, now = _tz(ctx), ctx.services.clock.now()
    try:
        opens, deadline = svc.round_times(deadline_text, parts[3] if len(parts) > 3 else "",
                                          tz, now)
    except WhenError as problem:
        return escape(str(problem))
    try:
        stored = ", ".join(await audiences.read(ctx, audience))
    except AudienceError as problem:
        return await audiences.ask_back(
            ctx, problem, lambda new: "open " + "; ".join([code, deadline_text, new, *parts[3:]]))
    if len(stored) > MAX_AUDIENCE:
        return _("That audience is too long to keep for a round: name fewer organisations, or "
                 "a role or a place instead.")
    recipients = await svc.resolve_audience(ctx.session, stored, ctx.message.chat.platform)
    if not recipients:
        return _("Nobody with the focal point role or above is in this audience.")
    unreachable = [r.user.display_name for r in recipients if r.chat_key is None]
    payload = {"form": row.code, "opens": opens.isoformat(), "deadline": deadline.isoformat(),
               "audience": stored, "report_chat": ctx.chat_key}
    await ctx.services.conversations.start_preview(ctx.session, ctx.chat_key, ctx.user.id,
                                                   OPEN_ROUND_KIND, payload, requires=["rounds"])
    form = svc.form_of_row(row)
    lines = [_("Open a round of {title}?").format(title=bold(form.title(current_locale()))),
             _("Opens: {opens}. Deadline: {deadline}.").format(
                 opens=texts.when(opens, tz) if opens > now else _("now"),
                 deadline=texts.when(deadline, tz)),
             _("Nudges to those who have not answered: {times}.").format(
                 times=", ".join(texts.when(t, tz) for t in svc.nudge_times(opens, deadline))
                 or "—"),
             recipients_line([escape(r.user.display_name) for r in recipients], len(recipients),
                             audiences.SHOWN)]
    if len(recipients) > audiences.SHOWN:
        lines.append(_("Everyone: {command}").format(
            command=f"`{ctx.prefix}audience {escape(audience)}`"))
    if unreachable:
        lines.append(_("Without a direct chat with me, so not asked: {names}.").format(
            names=", ".join(escape(n) for n in unreachable[:20])))
    lines.append(_("The summary will be posted here at the deadline."))
    # yes/no rather than 1/2: a reminder waiting for "1" never takes this button's answer.
    return Reply("\n".join(lines), [Choice(_("Confirm"), "yes"), Choice(_("Cancel"), "no")])


async def confirm_round(ctx: Context, pending):
    answer = confirmation_answer(ctx.message.text if not ctx.command else ctx.command)
    if answer is None:
        return _("Send 1 to confirm or 2 to cancel.")
    await ctx.services.conversations.end(ctx.session, ctx.chat_key, ctx.user.id)
    if not answer:
        return _("Cancelled; no round was opened.")
    svc, payload = _svc(ctx), pending.payload
    row = await svc.form_row(ctx.session, payload["form"])
    if row is None:
        return _("That form no longer exists.")
    round_ = await svc.create_round(
        ctx.session, row, opens_at=datetime.fromisoformat(payload["opens"]),
        deadline=datetime.fromisoformat(payload["deadline"]), audience=payload["audience"],
        report_chat=payload["report_chat"], created_by=ctx.user.id)
    if aware(round_.opens_at) <= ctx.services.clock.now():
        asked = await svc.open_round(ctx.session, round_)
        await audit.record(ctx.session, ctx.user.id, "checkins.round_open", f"round:{round_.id}",
                           {"form": row.code, "number": round_.number, "asked": asked},
                           at=ctx.services.clock.now())
        return ngettext("Round {number} of {form} is open: {count} person is being asked.",
                        "Round {number} of {form} is open: {count} people are being asked.",
                        asked).format(number=round_.number, form=f"`{row.code}`", count=asked)
    await audit.record(ctx.session, ctx.user.id, "checkins.round_schedule", f"round:{round_.id}",
                       {"form": row.code, "number": round_.number}, at=ctx.services.clock.now())
    return _("Round {number} of {form} is scheduled for {opens}.").format(
        number=round_.number, form=f"`{row.code}`",
        opens=texts.when(aware(round_.opens_at), _tz(ctx)))


async def _close_round(ctx: Context, rest: str):
    found = await _round_from(ctx, rest)
    if not isinstance(found, tuple):
        return found
    row, round_ = found
    if round_.status != "open":
        return _("Round {number} of {form} is not open.").format(number=round_.number,
                                                                 form=f"`{row.code}`")
    await _svc(ctx).close_now(ctx.session, round_)
    await audit.record(ctx.session, ctx.user.id, "checkins.round_close", f"round:{round_.id}",
                       {"form": row.code, "number": round_.number}, at=ctx.services.clock.now())
    return _("Round {number} of {form} is closed; late answers are still accepted.").format(
        number=round_.number, form=f"`{row.code}`")


async def _round_from(ctx: Context, args: str):
    words = args.split()
    if not words or len(words) > 2 or (len(words) == 2 and not words[1].isdecimal()):
        return ctx.usage()
    svc = _svc(ctx)
    row = await svc.form_row(ctx.session, words[0])
    if row is None:
        return await _unknown_form(ctx, words[0])
    round_ = await svc.round_by_number(ctx.session, row, int(words[1]) if len(words) > 1 else None)
    if round_ is None:
        return _("No round of {form} has been opened yet.").format(form=f"`{row.code}`")
    return row, round_


async def show_results(ctx: Context):
    found = await _round_from(ctx, ctx.args)
    if not isinstance(found, tuple):
        return found
    row, round_ = found
    svc = _svc(ctx)
    form = svc.form_of(round_)
    result = await svc.summarise(ctx.session, round_)
    await audit.record(ctx.session, ctx.user.id, "checkins.results", f"round:{round_.id}",
                       {"form": row.code, "number": round_.number}, at=ctx.services.clock.now())
    summary = texts.round_summary(form, round_, result, _tz(ctx))
    counts, shares = _chart_series(form, await svc.history(ctx.session, row))
    png = await asyncio.to_thread(
        reports.chart_png, _("{title}: totals per round").format(
            title=form.title(current_locale())), counts, _("No figures yet"), shares,
        (_("Number"), _("Share (%)")))
    chart = Reply(_("Main figures over the last rounds."),
                  attachment=Attachment(f"{row.code}-round{round_.number}.png", png, "image/png"))
    return [summary, chart]


Series = dict[str, list[tuple[str, float]]]


def _chart_series(form, history) -> tuple[Series, Series]:
    """Totals of the counts (people, places) per round, and the mean of each percentage
    question per round: they are drawn on two axes."""
    locale = current_locale()
    counts: Series = {}
    shares: Series = {}
    for q in [q for q in form.answerable if q.is_numeric][:5]:
        share = texts.is_share(q)
        key = "mean" if share else "total"
        (shares if share else counts)[q.label(locale, form.default_language)] = [
            (_("R{number}").format(number=r.number), float(result["questions"][q.name][key]))
            for r, result in history
            if result.get("questions", {}).get(q.name, {}).get(key) is not None]
    return counts, shares


async def export_round(ctx: Context):
    found = await _round_from(ctx, ctx.args)
    if not isinstance(found, tuple):
        return found
    row, round_ = found
    svc = _svc(ctx)
    form = svc.form_of(round_)
    tz = _tz(ctx)
    rows = [] if round_.reduced_at else await svc.respondents(ctx.session, round_)
    result = await svc.summarise(ctx.session, round_)
    header, tags, data = reports.response_table(form, round_.number, rows, tz)
    meta = {"form": row.code, "round": round_.number, "version": form.version,
            "deadline": aware(round_.deadline).astimezone(tz).isoformat(timespec="minutes"),
            "assigned": result["assigned"], "submitted": result["submitted"],
            "late": result["late"]}
    csv_bytes = reports.to_csv(header, tags, data)
    await audit.record(ctx.session, ctx.user.id, "checkins.export", f"round:{round_.id}",
                       {"form": row.code, "number": round_.number, "rows": len(data)},
                       at=ctx.services.clock.now())
    labels = reports.Labels(form, current_locale(), _export_words())
    xlsx = await asyncio.to_thread(reports.to_xlsx, header, tags, data,
                                   reports.summary_table(form, result, labels), meta,
                                   labels.codebook(header))
    name = f"{row.code}-round{round_.number}"
    note = ngettext("{count} response. Questions holding personal data are left out of the "
                    "rows; the summary sheet has their totals.", "{count} responses. Questions "
                    "holding personal data are left out of the rows; the summary sheet has their "
                    "totals.", len(data)).format(count=len(data))
    if round_.reduced_at:
        note = _("The answers of this round were reduced to totals after the retention "
                 "period; the summary sheet has them.")
    return [Reply(note, attachment=Attachment(f"{name}.csv", csv_bytes, "text/csv")),
            Reply(name + ".xlsx", attachment=Attachment(
                f"{name}.xlsx", xlsx,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))]


EXPORT_WORDS = {"round": N_("Round"), "respondent": N_("Respondent"),
                "organisation": N_("Organisation"), "region": N_("Region"),
                "submitted_at": N_("Submitted at"), "late": N_("Late"),
                "answered": N_("Answers"), "total": N_("Total")}


def _export_words() -> dict[str, str]:
    return {code: _(word) for code, word in EXPORT_WORDS.items()}


# ----- absences --------------------------------------------------------------------------

async def away(ctx: Context):
    svc = _svc(ctx)
    words = ctx.args.split()
    if not words:
        absences = await svc.absences_of(ctx.session, ctx.user.id)
        if not absences:
            return _("No absence declared. To pause check-in nudges: {prefix}away FROM TO, "
                     "e.g. {prefix}away 2026-12-24 2027-01-02.").format(prefix=ctx.prefix)
        return "\n".join([_("Check-in nudges are paused:")] + [
            _("• from {start} to {end}").format(start=a.starts_on.isoformat(),
                                               end=a.ends_on.isoformat()) for a in absences])
    if words[0].lower() in {"clear", "off", "none"}:
        count = await svc.clear_absences(ctx.session, ctx.user.id)
        return _("Absences removed: {count}. Nudges resume.").format(count=count)
    today = ctx.services.clock.now().astimezone(_tz(ctx)).date()
    try:
        starts, ends = svc.absence_dates(ctx.args, today)
    except WhenError as problem:
        return [escape(str(problem)), ctx.usage()]
    await svc.add_absence(ctx.session, ctx.user.id, starts, ends)
    return _("Check-in nudges are paused from {start} to {end} (both included). You can still "
             "answer any time.").format(start=starts.isoformat(), end=ends.isoformat())


FEATURE = Feature(
    name="checkins",
    commands=[
        Command("checkin", start_checkin, N_("answer a check-in, or change your answers"),
                N_("/checkin [FORM] or /checkin edit [FORM]")),
        Command("away", away, N_("pause check-in nudges while you are away"),
                N_("/away FROM TO, /away, /away clear")),
        Command("forms", list_forms, N_("check-in forms: list, show one, add one"),
                N_("/forms [FORM], /forms add (with a .xlsx or .yaml file)"), takes_file=True),
        Command("rounds", manage_rounds, N_("check-in rounds: list, open, close"),
                N_("/rounds, /rounds open FORM; DEADLINE; AUDIENCE [; OPENS], "
                   "/rounds close FORM [ROUND]")),
        Command("results", show_results, N_("check-in summary and chart"),
                N_("/results FORM [ROUND]")),
        Command("export", export_round, N_("check-in answers as CSV (with HXL) and XLSX"),
                N_("/export FORM [ROUND]")),
    ],
    conversations=[
        ConversationStep(CONVERSATION_KIND, answer_step,
                         frozenset({"skip", "back", "cancel", "edit"}), reads=answer_reads),
        ConversationStep(OPEN_ROUND_KIND, confirm_round, frozenset({"cancel"}), confirms=True),
    ],
)
