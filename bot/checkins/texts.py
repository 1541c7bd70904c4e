"""What check-ins say, in the active locale: questions, invitations, nudges, summaries. Used by
the chat handlers and by the service for the messages it queues in the outbox (questions at
opening, nudges, closing summaries). Neutral `Reply` objects only, no transport."""
from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.checkins.forms import Form, Question, number_for
from bot.checkins.models import CheckinRound
from bot.i18n import _, current_locale, ngettext
from bot.markup import bold, escape
from bot.messages import Choice, Reply, command_prefix

MAX_NAMES = 30
MAX_TEXTS = 40


def prefix_for(chat_key: str | None) -> str:
    return command_prefix(chat_key)


def when(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%d/%m/%Y %H:%M")


def title(form: Form) -> str:
    return form.title(current_locale())


def position(form: Form, index: int) -> tuple[int, int]:
    answerable = [i for i, q in enumerate(form.questions) if q.answerable]
    number = answerable.index(index) + 1 if index in answerable else len(answerable)
    return number, len(answerable)


def notes_before(form: Form, index: int, answers: dict[str, Any]) -> list[str]:
    notes: list[str] = []
    position_ = index - 1
    while position_ >= 0 and form.questions[position_].type == "note":
        note = form.questions[position_]
        if note.is_relevant(answers):
            notes.insert(0, note.label(current_locale(), form.default_language))
        position_ -= 1
    return notes


def question(form: Form, index: int, answers: dict[str, Any], *, prefix: str = "/",
             with_notes: bool = True) -> Reply:
    locale, default = current_locale(), form.default_language
    q = form.questions[index]
    number, total = position(form, index)
    lines = []
    if with_notes:
        lines += notes_before(form, index, answers)
    lines.append(_("Question {number} of {total}:").format(number=number, total=total)
                 + " " + bold(q.label(locale, default)))
    if q.hint(locale, default):
        lines.append(f"_{escape(q.hint(locale, default))}_")
    choices: list[Choice] = []
    if q.type == "select_one":
        choices = [Choice(o.label(locale, default), o.name) for o in q.options]
    elif q.type == "select_multiple":
        lines += [f"{i}. {escape(o.label(locale, default))}" for i, o in enumerate(q.options, 1)]
        lines.append(_("Send the numbers of all that apply, separated by commas (e.g. 1, 3)."))
    if q.name in answers and answers[q.name] is not None:
        lines.append(_("Current answer: {answer} ({prefix}skip keeps it)").format(
            answer=escape(q.display(answers[q.name], locale, default)), prefix=prefix))
    lines.append(help_line(q, prefix))
    return Reply("\n".join(lines), choices)


def help_line(q: Question, prefix: str) -> str:
    if q.required:
        return _("{prefix}back: previous question · {prefix}cancel: stop for now").format(
            prefix=prefix)
    return _("Optional: {prefix}skip to leave it empty · {prefix}back: previous question · "
             "{prefix}cancel: stop for now").format(prefix=prefix)


def review(form: Form, answers: dict[str, Any], relevant_indexes: list[int], *,
           deadline: datetime, tz: ZoneInfo, prefix: str = "/") -> Reply:
    """The summary to confirm before submitting."""
    locale, default = current_locale(), form.default_language
    lines = [_("Please check your answers to {title}:").format(title=bold(title(form)))]
    for number, index in enumerate(relevant_indexes, 1):
        q = form.questions[index]
        lines.append(f"{number}. " + _line(escape(q.label(locale, default).rstrip(" ?\u00a0")),
                                           bold(q.display(answers.get(q.name), locale, default))))
    lines.append(_("Deadline: {deadline}.").format(deadline=when(deadline, tz)))
    return Reply("\n".join(lines), [Choice(_("Submit"), "submit"),
                                     Choice(_("Change an answer"), "change")])


def pick_question(form: Form, relevant_indexes: list[int], prefix: str = "/") -> Reply:
    locale, default = current_locale(), form.default_language
    lines = [_("Which answer do you want to change? Send its number.")]
    lines += [f"{n}. {escape(form.questions[i].label(locale, default))}"
              for n, i in enumerate(relevant_indexes, 1)]
    return Reply("\n".join(lines))


def invitation(form: Form, round_: CheckinRound, first: int, chat_key: str, tz: ZoneInfo,
               start_now: bool) -> Reply:
    prefix = prefix_for(chat_key)
    intro = _("Check-in {title} (round {number}): please answer by {deadline}.").format(
        title=bold(title(form)), number=round_.number,
        deadline=when(round_.deadline, tz))
    if not start_now:
        return Reply(intro + "\n" + _("When you are ready, send {prefix}checkin {form} to "
                                      "answer.").format(prefix=prefix, form=form.code))
    shown = question(form, first, {}, prefix=prefix)
    return Reply(intro + "\n" + shown.text, shown.choices)


def nudge(form: Form, round_: CheckinRound, tz: ZoneInfo, prefix: str = "/") -> Reply:
    return Reply(_("Reminder: your answer to {title} is expected by {deadline}. Send "
                   "{prefix}checkin {form} to answer (it takes two minutes).").format(
                       title=bold(title(form)), deadline=when(round_.deadline, tz),
                       prefix=prefix, form=form.code))


def region_label(form: Form, code: str) -> str:
    if code == "?":
        return _("region unknown")
    q = form.region_question
    option = q.option(code) if q else None
    return option.label(current_locale(), form.default_language) if option else code


def _number(value: Any) -> str:
    """27.5 → "27,5", 1250 → "1 250" (fr) or "1.250" (nl): as the reader writes numbers."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return number_for(round(value, 2) if isinstance(value, float) else value, current_locale())


def is_share(question: Question) -> bool:
    """A percentage (HXL `+pct`, or "%" in its label): averaged and drawn on its own axis,
    never added up with head counts."""
    return question.type == "decimal" and (
        "+pct" in (question.hxl or "") or "%" in question.label("en"))


def _line(label: str, values: str) -> str:
    return _("{label}: {values}").format(label=label, values=values)


def round_summary(form: Form, round_: CheckinRound, result: dict[str, Any], tz: ZoneInfo, *,
                  closing: bool = False) -> Reply:
    locale, default = current_locale(), form.default_language
    head = _("Check-in {title}, round {number} (deadline {deadline})").format(
        title=title(form), number=round_.number, deadline=when(round_.deadline, tz))
    lines = [(_("Closed: ") if closing else "") + bold(head)]
    assigned, submitted = result["assigned"], result["submitted"]
    percent = round(100 * submitted / assigned) if assigned else 0
    lines.append(_("Responses: {submitted} of {assigned} ({percent}%), of which {late} "
                   "late.").format(submitted=submitted, assigned=assigned, percent=percent,
                                   late=result["late"]))
    lines += _non_responders(result)
    if len(result.get("regions", {})) > 1:
        lines.append(_("By region: {regions}").format(regions="; ".join(
            f"{region_label(form, r)} {c['submitted']}/{c['assigned']}"
            for r, c in sorted(result["regions"].items()))))
    for q in form.answerable:
        figures = result["questions"].get(q.name)
        if figures:
            lines += _question_lines(form, q, figures, locale, default)
    return Reply("\n".join(lines))


def _non_responders(result: dict[str, Any]) -> list[str]:
    names = result.get("non_responders") or []
    # Older summaries have no count: every non-responder was named.
    count = max(result.get("non_responder_count", 0), len(names))
    if not count:
        return [_("Everyone answered.")] if result["assigned"] else []
    if result.get("reduced"):
        return [_("Not answered: {count} (names removed after the retention period).")
                .format(count=count)]
    if not names:  # only people who erased their data: counted, never named
        return [_("Not answered yet: {names}").format(names=ngettext(
            "{count} person", "{count} people", count).format(count=count))]
    shown = ", ".join(escape(n) for n in names[:MAX_NAMES])
    more = count - min(len(names), MAX_NAMES)
    if more > 0:
        shown += " " + ngettext("and {count} more", "and {count} more", more).format(count=more)
    return [_("Not answered yet: {names}").format(names=shown)]


def _question_lines(form: Form, q: Question, figures: dict[str, Any], locale: str,
                    default: str) -> list[str]:
    # A question's "?" ends the label: "Situation this week: Amber (1)", not "week?: Amber 1".
    label = bold(q.label(locale, default).rstrip(" ?\u00a0"))
    answered = figures.get("answered", 0)
    if is_share(q):
        mean = figures.get("mean")
        return [_("{label}: mean {mean}% ({answers})").format(
            label=label, mean=_number(mean) if mean is not None else "—",
            answers=_answers(answered))]
    if q.is_numeric:
        line = _("{label}: total {total} ({answers}, mean {mean})").format(
            label=label, total=_number(figures["total"]), answers=_answers(answered),
            mean=_number(figures["mean"]) if figures.get("mean") is not None else "—")
        lines = [line]
        if figures.get("by_region") and len(figures["by_region"]) > 1:
            lines.append("   " + "; ".join(f"{region_label(form, r)} {_number(v)}"
                                           for r, v in figures["by_region"].items()))
        return lines
    if "counts" in figures:
        def named(counts: dict[str, int]) -> str:
            readable = q.is_choice or q.type == "date"  # labels, and dates day first
            return ", ".join(f"{escape(q.display(k, locale, default)) if readable else k} "
                             f"({_number(v)})" for k, v in counts.items())
        lines = [_line(label, named(figures['counts']) or '—')]
        if figures.get("by_region") and len(figures["by_region"]) > 1:
            lines += ["   " + _line(region_label(form, r), named(c))
                      for r, c in figures["by_region"].items()]
        return lines
    if "texts" in figures:
        lines = [_line(label, _answers(answered))]
        lines += [f"   • [{region_label(form, r)}] {escape(t)}"
                  for r, t in figures["texts"][:MAX_TEXTS]]
        return lines
    return [_("{label}: {answers} (personal data: only the count is shown)").format(
        label=label, answers=_answers(answered))]


def _answers(count: int) -> str:
    return ngettext("{count} answer", "{count} answers", count).format(count=count)
