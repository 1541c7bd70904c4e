"""Check-in commands for coordinators: forms (list, show, add), rounds (list, open, close),
results with their chart, and the export of a round's answers."""
from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.audience import AudienceError, recipients_line
from bot.checkins import reports, texts
from bot.checkins.explain import describe_condition, type_label
from bot.checkins.form_files import FORM_SUFFIXES
from bot.checkins.forms import Form
from bot.checkins.models import CheckinForm, CheckinRound
from bot.checkins.recipients import Recipient
from bot.checkins.rounds import MAX_AUDIENCE
from bot.conversations import PendingConversation, confirm_choices, preview_answer
from bot.db import as_utc
from bot.handlers import audience as audiences
from bot.handlers.checkin_answers import service, told_to_user, user_tz
from bot.i18n import N_, _, current_locale, ngettext
from bot.markup import bold, escape
from bot.messages import Attachment, Reply
from bot.router import Command, Context, ConversationStep, Feature, HandlerResult, UserError
from bot.trust import audit

OPEN_ROUND_KIND = "checkins.open_round"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _split(args: str) -> list[str]:
    return [part.strip() for part in args.split(";")]


async def _form(ctx: Context, code: str) -> CheckinForm:
    with told_to_user():
        return await service(ctx).forms.require(ctx.session, code)


# ----- forms -----------------------------------------------------------------------------

async def list_forms(ctx: Context) -> HandlerResult:
    forms = service(ctx).forms
    words = ctx.args.split()
    if words and words[0].lower() == "add":
        return await _add_form(ctx)
    if words:
        return _describe_form(forms.form_of_row(await _form(ctx, words[0])))
    rows = await forms.forms(ctx.session)
    if not rows:
        return _("No forms yet. Send an XLSForm (.xlsx) or YAML file with the caption "
                 "{prefix}forms add.").format(prefix=ctx.prefix)
    lines = [_("Check-in forms:")]
    for row in rows:
        form = forms.form_of_row(row)
        lines.append(f"• `{row.code}`: {escape(form.title(current_locale()))} ("
                     + ngettext("{count} question", "{count} questions",
                                len(form.answerable)).format(count=len(form.answerable)) + ")")
    lines.append(_("Open a round: {prefix}rounds open FORM; DEADLINE; AUDIENCE").format(
        prefix=ctx.prefix))
    return "\n".join(lines)


def _describe_form(form: Form) -> str:
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


async def _add_form(ctx: Context) -> HandlerResult:
    attachment = ctx.message.attachment
    if attachment is None or Path(attachment.filename).suffix.lower() not in FORM_SUFFIXES:
        return _("Attach an XLSForm (.xlsx) or YAML form file to the {prefix}forms add "
                 "message.").format(prefix=ctx.prefix)
    with told_to_user():
        row, form, created = await service(ctx).forms.save_upload(
            ctx.session, attachment.filename, attachment.content)
    await audit.record(ctx.session, ctx.user.id, "checkins.form_save", f"form:{row.code}",
                       {"created": created}, at=ctx.services.clock.now())
    message = _("Form {code} added.") if created else _("Form {code} updated; rounds "
                                                        "already opened keep their version.")
    return message.format(code=f"`{row.code}`") + "\n" + _describe_form(form)


# ----- rounds ----------------------------------------------------------------------------

async def manage_rounds(ctx: Context) -> HandlerResult:
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


async def _list_rounds(ctx: Context) -> HandlerResult:
    lines_of_rounds = await service(ctx).rounds.overview(ctx.session)
    if not lines_of_rounds:
        return _("No rounds yet. Open one: {prefix}rounds open FORM; DEADLINE; AUDIENCE").format(
            prefix=ctx.prefix)
    labels = {"scheduled": _("scheduled"), "open": _("open"), "closed": _("closed")}
    lines = [_("Check-in rounds:")]
    for line in lines_of_rounds:
        round_ = line.round
        lines.append(_("• `{form}` round {number}: {status}, deadline {deadline}, {done}/{total} "
                       "answered").format(form=line.form_code, number=round_.number,
                                          status=labels.get(round_.status, round_.status),
                                          deadline=texts.when(round_.deadline,
                                                              user_tz(ctx)),
                                          done=line.answered, total=line.asked))
    return "\n".join(lines)


async def _preview_round(ctx: Context, rest: str) -> HandlerResult:
    parts = _split(rest)
    if len(parts) < 3 or not all(parts[:3]):
        return ctx.usage()
    code, deadline_text, audience = parts[:3]
    checkins = service(ctx)
    row = await _form(ctx, code)
    tz, now = user_tz(ctx), ctx.services.clock.now()
    with told_to_user():
        opens, deadline = checkins.rounds.round_times(
            deadline_text, parts[3] if len(parts) > 3 else "", tz, now)
    try:
        stored = ", ".join(await audiences.read(ctx, audience))
    except AudienceError as problem:
        return await audiences.ask_back(
            ctx, problem, lambda new: "open " + "; ".join([code, deadline_text, new, *parts[3:]]))
    if len(stored) > MAX_AUDIENCE:
        return _("That audience is too long to keep for a round: name fewer organisations, or "
                 "a role or a place instead.")
    recipients = await checkins.recipients.resolve(ctx.session, stored,
                                                   ctx.message.chat.platform)
    if not recipients:
        return _("Nobody with the focal point role or above is in this audience.")
    payload = {"form": row.code, "opens": opens.isoformat(), "deadline": deadline.isoformat(),
               "audience": stored, "report_chat": ctx.chat_key}
    await ctx.services.conversations.start_preview(ctx.session, ctx.chat_key, ctx.user.id,
                                                   OPEN_ROUND_KIND, payload, requires=["rounds"])
    form = checkins.forms.form_of_row(row)
    return _round_preview(ctx, form, (opens, deadline), audience, recipients, opens <= now)


def _round_preview(ctx: Context, form: Form, times: tuple[datetime, datetime], audience: str,
                   recipients: list[Recipient], opens_now: bool) -> Reply:
    opens, deadline = times
    tz = user_tz(ctx)
    nudges = service(ctx).rounds.nudge_times(opens, deadline)
    lines = [_("Open a round of {title}?").format(title=bold(form.title(current_locale()))),
             _("Opens: {opens}. Deadline: {deadline}.").format(
                 opens=_("now") if opens_now else texts.when(opens, tz),
                 deadline=texts.when(deadline, tz)),
             _("Nudges to those who have not answered: {times}.").format(
                 times=", ".join(texts.when(t, tz) for t in nudges) or "—"),
             recipients_line([escape(r.user.display_name) for r in recipients], len(recipients),
                             audiences.SHOWN)]
    if len(recipients) > audiences.SHOWN:
        lines.append(_("Everyone: {command}").format(
            command=f"`{ctx.prefix}audience {escape(audience)}`"))
    unreachable = [r.user.display_name for r in recipients if r.chat_key is None]
    if unreachable:
        lines.append(_("Without a direct chat with me, so not asked: {names}.").format(
            names=", ".join(escape(n) for n in unreachable[:20])))
    lines.append(_("The summary will be posted here at the deadline."))
    # yes/no rather than 1/2: a reminder waiting for "1" never takes this button's answer.
    return Reply("\n".join(lines), confirm_choices())


async def confirm_round(ctx: Context, pending: PendingConversation) -> HandlerResult:
    answer = preview_answer(ctx.message.text if not ctx.command else ctx.command)
    if answer is None:
        return _("Send 1 to confirm or 2 to cancel.")
    await ctx.services.conversations.end(ctx.session, ctx.chat_key, ctx.user.id)
    if not answer:
        return _("Cancelled; no round was opened.")
    checkins, payload = service(ctx), pending.payload
    row = await checkins.forms.form_row(ctx.session, payload["form"])
    if row is None:
        return _("That form no longer exists.")
    with told_to_user():
        round_ = await checkins.rounds.create_round(
            ctx.session, row, opens_at=as_utc(datetime.fromisoformat(payload["opens"])),
            deadline=as_utc(datetime.fromisoformat(payload["deadline"])),
            audience=payload["audience"], report_chat=payload["report_chat"],
            created_by=ctx.user.id, tz=user_tz(ctx))
    if round_.opens_at <= ctx.services.clock.now():
        asked = await checkins.rounds.open_round(ctx.session, round_)
        await _audit(ctx, "checkins.round_open", round_, row, asked=asked)
        return ngettext("Round {number} of {form} is open: {count} person is being asked.",
                        "Round {number} of {form} is open: {count} people are being asked.",
                        asked).format(number=round_.number, form=f"`{row.code}`", count=asked)
    await _audit(ctx, "checkins.round_schedule", round_, row)
    return _("Round {number} of {form} is scheduled for {opens}.").format(
        number=round_.number, form=f"`{row.code}`",
        opens=texts.when(round_.opens_at, user_tz(ctx)))


async def _audit(ctx: Context, action: str, round_: CheckinRound, row: CheckinForm,
                 **details: Any) -> None:
    await audit.record(ctx.session, ctx.user.id, action, f"round:{round_.id}",
                       {"form": row.code, "number": round_.number, **details},
                       at=ctx.services.clock.now())


async def _close_round(ctx: Context, rest: str) -> HandlerResult:
    row, round_ = await _round_from(ctx, rest)
    with told_to_user():
        await service(ctx).due.close_now(ctx.session, round_, row.code)
    await _audit(ctx, "checkins.round_close", round_, row)
    return _("Round {number} of {form} is closed; late answers are still accepted.").format(
        number=round_.number, form=f"`{row.code}`")


async def _round_from(ctx: Context, args: str) -> tuple[CheckinForm, CheckinRound]:
    """`FORM [ROUND]`: the form and that round (the latest opened without a number)."""
    words = args.split()
    if not words or len(words) > 2 or (len(words) == 2 and not words[1].isdecimal()):
        raise UserError(ctx.usage())
    row = await _form(ctx, words[0])
    with told_to_user():
        round_ = await service(ctx).rounds.require_round(
            ctx.session, row, int(words[1]) if len(words) > 1 else None)
    return row, round_


# ----- results and export ----------------------------------------------------------------

async def show_results(ctx: Context) -> HandlerResult:
    row, round_ = await _round_from(ctx, ctx.args)
    checkins = service(ctx)
    form = checkins.forms.form_of(round_)
    result = await checkins.results.summarise(ctx.session, round_)
    await _audit(ctx, "checkins.results", round_, row)
    summary = texts.round_summary(form, round_, result, user_tz(ctx))
    counts, shares = _chart_series(form, await checkins.results.history(ctx.session, row))
    png = await asyncio.to_thread(
        reports.chart_png, _("{title}: totals per round").format(
            title=form.title(current_locale())), counts, _("No figures yet"), shares,
        (_("Number"), _("Share (%)")))
    chart = Reply(_("Main figures over the last rounds."),
                  attachment=Attachment(f"{row.code}-round{round_.number}.png", png, "image/png"))
    return [summary, chart]


Series = dict[str, list[tuple[str, float]]]


def _chart_series(form: Form, history: list[tuple[CheckinRound, dict[str, Any]]]
                  ) -> tuple[Series, Series]:
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


async def export_round(ctx: Context) -> HandlerResult:
    row, round_ = await _round_from(ctx, ctx.args)
    checkins = service(ctx)
    form, tz = checkins.forms.form_of(round_), user_tz(ctx)
    rows = [] if round_.reduced_at else await checkins.results.respondents(ctx.session, round_)
    result = await checkins.results.summarise(ctx.session, round_)
    header, tags, data = reports.response_table(form, round_.number, rows, tz)
    csv_bytes = reports.to_csv(header, tags, data)
    await _audit(ctx, "checkins.export", round_, row, rows=len(data))
    labels = reports.Labels(form, current_locale(), _export_words())
    xlsx = await asyncio.to_thread(reports.to_xlsx, header, tags, data,
                                   reports.summary_table(form, result, labels),
                                   _export_meta(row, round_, form, result, tz),
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
            Reply(name + ".xlsx", attachment=Attachment(f"{name}.xlsx", xlsx, XLSX))]


def _export_meta(row: CheckinForm, round_: CheckinRound, form: Form, result: dict[str, Any],
                 tz: ZoneInfo) -> dict[str, Any]:
    return {"form": row.code, "round": round_.number, "version": form.version,
            "deadline": round_.deadline.astimezone(tz).isoformat(timespec="minutes"),
            "assigned": result["assigned"], "submitted": result["submitted"],
            "late": result["late"]}


EXPORT_WORDS = {"round": N_("Round"), "respondent": N_("Respondent"),
                "organisation": N_("Organisation"), "region": N_("Region"),
                "submitted_at": N_("Submitted at"), "late": N_("Late"),
                "answered": N_("Answers"), "total": N_("Total")}


def _export_words() -> dict[str, str]:
    return {code: _(word) for code, word in EXPORT_WORDS.items()}


FEATURE = Feature(
    name="checkin_rounds",
    commands=[
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
        ConversationStep(OPEN_ROUND_KIND, confirm_round, frozenset({"cancel"}), confirms=True),
    ],
)
