"""Meeting follow-up commands: /agenda, /decision, /minutes here, the action commands in
bot/handlers/meeting_actions.py; this module declares the feature. Parsing and replies only;
the rules live in bot/meetings."""
from __future__ import annotations

from bot.handlers.meeting_actions import (CONFIRM_KIND, GUIDED_KIND, NEW_DATE_KIND,
                                          action, actions, answer_reads, answer_step,
                                          check_text, done, guided_step, later, meeting_for,
                                          new_date_step, not_mine, owner_names, reassign,
                                          reader_tz, recordable, save_action)
from bot.i18n import N_, _, ngettext
from bot.markup import escape
from bot.meetings import minutes as documents
from bot.meetings.models import AGENDA, DECISION
from bot.conversations import confirm_step
from bot.meetings.service import ANSWER_KIND, MeetingsService
from bot.messages import Attachment, Reply
from bot.reminders.ids import short_id
from bot.reminders.models import Schedule
from bot.router import Command, ConversationStep, Context, Feature
from bot.when import WhenError, parse_date

MAX_AGENDA = 50  # points per meeting: a participant cannot flood the reminder


def _service(ctx: Context) -> MeetingsService:
    return ctx.services.meetings


# --- agenda and decisions ---------------------------------------------------------------------

async def agenda(ctx: Context):
    word, _sep, text = ctx.args.partition(";")
    if not word.strip():
        return ctx.usage()
    schedule = await meeting_for(ctx, word.strip())
    occurrence = _service(ctx).next_occurrence(schedule)
    if occurrence is None:
        return _("Meeting {id} has no next date; there is no agenda to prepare.").format(
            id=short_id(schedule.id))
    if not _sep:
        return await _list_agenda(ctx, schedule, occurrence)
    problem = check_text(text.strip())
    if problem:
        return problem
    if len(await _service(ctx).items(ctx.session, schedule, (AGENDA,), occurrence)) >= MAX_AGENDA:
        return _("The agenda of {id} is full ({limit} points).").format(
            id=short_id(schedule.id), limit=MAX_AGENDA)
    await _service(ctx).add(ctx.session, schedule, ctx.user, AGENDA, text.strip(), occurrence)
    return _("Added to the agenda of {id} for {date}. It goes out with the meeting "
             "reminder.").format(id=short_id(schedule.id), date=documents.long_date(occurrence))


async def _list_agenda(ctx: Context, schedule: Schedule, occurrence: str):
    items = await _service(ctx).items(ctx.session, schedule, (AGENDA,), occurrence)
    heading = _("Agenda of {title} ({id}) for {date}:").format(
        title=escape(schedule.title), id=short_id(schedule.id),
        date=documents.long_date(occurrence))
    if not items:
        return heading + "\n" + _("Nothing yet. Add a point with {prefix}agenda {id}; "
                                  "TEXT.").format(prefix=ctx.prefix, id=short_id(schedule.id))
    return "\n".join([heading, *(f"{n}. {escape(i.text)}" for n, i in enumerate(items, 1))])


async def decision(ctx: Context):
    word, _sep, text = ctx.args.partition(";")
    if not word.strip() or not _sep:
        return ctx.usage()
    schedule = await recordable(ctx, word.strip())
    problem = check_text(text.strip())
    if problem:
        return problem
    occurrence = _service(ctx).current_occurrence(schedule)
    await _service(ctx).add(ctx.session, schedule, ctx.user, DECISION, text.strip(), occurrence)
    return _("Decision recorded for the meeting of {date} ({id}).").format(
        date=documents.long_date(occurrence), id=short_id(schedule.id))



# --- minutes ----------------------------------------------------------------------------------

async def minutes(ctx: Context):
    word, _space, date_text = ctx.args.strip().partition(" ")
    if not word:
        return ctx.usage()
    schedule = await meeting_for(ctx, word)
    occurrence = None
    if date_text.strip():
        try:
            today = ctx.services.clock.now().date()
            occurrence = parse_date(date_text.strip(), today, future=False).isoformat()
        except WhenError as error:
            return escape(str(error))
    record = await _service(ctx).minutes(ctx.session, schedule, occurrence)
    owners = {item.id: await owner_names(ctx, item.owner or []) for item in record.actions}
    name = f"minutes-{short_id(schedule.id)}-{record.occurrence}"
    text = documents.markdown(record, owners, reader_tz(ctx))
    counts = ", ".join([
        ngettext("{n} decision", "{n} decisions", len(record.decisions)).format(
            n=len(record.decisions)),
        ngettext("{n} action", "{n} actions", len(record.actions)).format(
            n=len(record.actions))])
    summary = _("{title}: {counts}.").format(title=escape(documents.title(record)),
                                             counts=counts)
    return [Reply(summary, attachment=Attachment(f"{name}.md", text.encode("utf-8"),
                                                 "text/markdown")),
            Reply(_("The same minutes as a Word document."),
                  attachment=Attachment(f"{name}.docx",
                                        documents.docx(record, owners, reader_tz(ctx)),
                                        "application/vnd.openxmlformats-officedocument."
                                        "wordprocessingml.document"))]



FEATURE = Feature(
    name="meetings",
    commands=[
        Command("agenda", agenda, N_("add a point to a meeting's agenda, or list it"),
                N_("/agenda ID[; TEXT]")),
        Command("decision", decision, N_("record a decision of a meeting"),
                N_("/decision ID; TEXT")),
        Command("action", action, N_("record an action: who does what by when (with only "
                                     "the ID, asked one question at a time)"),
                N_("/action ID[; OWNER; WHEN; TEXT]")),
        Command("actions", actions, N_("your open actions, or a meeting's"),
                N_("/actions [ID]")),
        Command("done", done, N_("an action of yours is done"), N_("/done ACTION")),
        Command("later", later, N_("ask for more time for an action"),
                N_("/later ACTION [WHEN]")),
        Command("notmine", not_mine, N_("an action is not yours"), N_("/notmine ACTION")),
        Command("reassign", reassign, N_("give an action to someone else"),
                N_("/reassign ACTION; OWNER")),
        Command("minutes", minutes, N_("a meeting's decisions and actions as a document"),
                N_("/minutes ID [DATE]")),
    ],
    conversations=[ConversationStep(CONFIRM_KIND, confirm_step(save_action), confirms=True),
                   ConversationStep(NEW_DATE_KIND, new_date_step),
                   ConversationStep(GUIDED_KIND, guided_step),
                   ConversationStep(ANSWER_KIND, answer_step, reads=answer_reads)],
)

