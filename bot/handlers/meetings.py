"""Meeting follow-up commands: /agenda, /decision, /action, /actions, /done, /later, /notmine,
/reassign, /minutes. Parsing and replies only; the rules live in bot/meetings. An action is
previewed and saved only after Confirm, like a reminder."""
from __future__ import annotations

from datetime import datetime, timedelta

from bot.audience import AudienceError, describe, only_self
from bot.conversations import PendingConversation, preview_answer
from bot.handlers import audience as audiences
from bot.i18n import N_, _, ngettext
from bot.markup import bold, escape
from bot.meetings import minutes as documents
from bot.meetings.models import AGENDA, DECISION, DECLINED, DONE, OPEN, MeetingItem
from bot.meetings.service import ANSWER_KIND, action_id
from bot.messages import Attachment, Choice, Reply
from bot.reminders.formatting import moment
from bot.reminders.models import Schedule
from bot.reminders.service import short_id
from bot.router import Command, ConversationStep, Context, Feature, role_label
from bot.trust import audit
from bot.when import END_OF_DAY, WhenError, parse_date, parse_moment
from bot.when.recurrence import as_utc

CONFIRM_KIND = "meetings.confirm"
NEW_DATE_KIND = "meetings.new_date"
MAX_TEXT = 1000
MAX_LISTED = 30
MAX_AGENDA = 50  # points per meeting: a participant cannot flood the reminder


def _service(ctx: Context):
    return ctx.services.meetings


def _parts(args: str, count: int) -> list[str]:
    """The first `count - 1` parts split at `;`, the rest (free text) kept whole."""
    return [part.strip() for part in args.split(";", count - 1)]


def _tz(ctx: Context) -> str:
    return ctx.user.timezone or ctx.services.settings.timezone


def _no_meeting(ctx: Context, word: str) -> str:
    return _("There is no meeting {id} that you take part in. {prefix}reminders lists "
             "yours.").format(id=escape(word[:20]), prefix=ctx.prefix)


async def _meeting(ctx: Context, word: str) -> Schedule | str:
    """The meeting named by `word` if the person takes part in it, else the answer to give
    (the same whether it does not exist or is not theirs)."""
    schedule = await _service(ctx).meeting(ctx.session, word)
    if schedule is None or not await _service(ctx).is_participant(ctx.session, schedule,
                                                                  ctx.user, ctx.chat_key):
        return _no_meeting(ctx, word)
    return schedule


async def _recordable(ctx: Context, word: str) -> Schedule | str:
    schedule = await _meeting(ctx, word)
    if isinstance(schedule, str):
        return schedule
    if not _service(ctx).may_record(schedule, ctx.user):
        return _("Only the meeting's owner or a coordinator records decisions and actions of "
                 "{id}; you can add agenda points with {prefix}agenda.").format(
                     id=short_id(schedule.id), prefix=ctx.prefix)
    return schedule


def _checked_text(text: str) -> str | None:
    """The error for a text that cannot be recorded, else None."""
    if not text:
        return _("Please write the text after the last “;”.")
    if len(text) > MAX_TEXT:
        return _("The text is too long (at most {limit} characters).").format(limit=MAX_TEXT)
    return None


# --- agenda and decisions ---------------------------------------------------------------------

async def agenda(ctx: Context):
    word, _sep, text = ctx.args.partition(";")
    if not word.strip():
        return ctx.usage()
    schedule = await _meeting(ctx, word.strip())
    if isinstance(schedule, str):
        return schedule
    occurrence = _service(ctx).next_occurrence(schedule)
    if occurrence is None:
        return _("Meeting {id} has no next date; there is no agenda to prepare.").format(
            id=short_id(schedule.id))
    if not _sep:
        return await _list_agenda(ctx, schedule, occurrence)
    problem = _checked_text(text.strip())
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
    schedule = await _recordable(ctx, word.strip())
    if isinstance(schedule, str):
        return schedule
    problem = _checked_text(text.strip())
    if problem:
        return problem
    occurrence = _service(ctx).current_occurrence(schedule)
    await _service(ctx).add(ctx.session, schedule, ctx.user, DECISION, text.strip(), occurrence)
    return _("Decision recorded for the meeting of {date} ({id}).").format(
        date=documents.long_date(occurrence), id=short_id(schedule.id))


# --- actions ----------------------------------------------------------------------------------

def _due(ctx: Context, text: str, schedule: Schedule | None = None) -> datetime:
    """WHEN of an action: a date alone means the end of that day; "before the next meeting"
    the start of the series' next meeting."""
    found = _service(ctx).next_meeting_due(schedule, text) if schedule is not None else None
    return found or parse_moment(text, _tz(ctx), ctx.services.clock.now(),
                                 default_time=END_OF_DAY)


async def action(ctx: Context):
    parts = _parts(ctx.args, 4)
    if len(parts) == 1 and parts[0]:
        return await _start_guided(ctx, parts[0])
    if len(parts) < 4 or not all(parts[:3]):
        return ctx.usage()
    schedule = await _recordable(ctx, parts[0])
    if isinstance(schedule, str):
        return schedule
    problem = _checked_text(parts[3])
    if problem:
        return problem
    try:
        owner = await _owner_tokens(ctx, parts[1])
        due_at = _due(ctx, parts[2], schedule)
    except WhenError as error:
        return escape(str(error))
    except AudienceError as error:
        return await audiences.ask_back(ctx, error, lambda new: "; ".join(
            [parts[0], new, *parts[2:]]))
    payload = {"schedule_id": schedule.id, "owner": owner, "due_at": due_at.isoformat(),
               "text": parts[3]}
    requires = ["action"] + ([] if schedule.owner_id == ctx.user.id
                             else ["meetings.record_any"])
    if not only_self(owner, ctx.user.id, set()):
        requires.append("reminders.address_others")
    await ctx.services.conversations.start_preview(ctx.session, ctx.chat_key, ctx.user.id,
                                                   CONFIRM_KIND, payload, requires=requires)
    lines = [bold(_("New action for {title} ({id})").format(title=escape(schedule.title),
                                                            id=short_id(schedule.id))),
             _("Text: {text}").format(text=escape(parts[3])),
             _("Owner: {owner}").format(owner=escape(await _owner(ctx, owner))),
             await audiences.recipients_preview(ctx, owner, parts[1]),
             _("Due: {when}.").format(when=moment(due_at, _tz(ctx))),
             _("Confirm?")]
    return Reply("\n".join(lines), _confirm_choices())


# --- guided mode: `/action R5` asks OWNER, WHEN and TEXT one at a time -------------------------

GUIDED_KIND = "meetings.guided"
GUIDED_STEPS = ("owner", "when", "text")


def _question(step: str) -> str:
    return {"owner": _("Who does it? A person (@name), an organisation (“CPAS de Namur”) or a "
                       "role in a place (“focal points of Hainaut”)."),
            "when": _("By when? For example “Friday”, “in two weeks” or “before the next "
                      "meeting”."),
            "text": _("What is to be done?")}[step]


async def _start_guided(ctx: Context, word: str):
    schedule = await _recordable(ctx, word)
    if isinstance(schedule, str):
        return schedule
    await ctx.services.conversations.start(ctx.session, ctx.chat_key, ctx.user.id, GUIDED_KIND,
                                           {"meeting": word, "answers": []},
                                           ttl=timedelta(hours=1))
    return _question("owner")


async def guided_step(ctx: Context, pending: PendingConversation):
    """Each answer is checked as the full command would check it; a wrong one is explained
    and asked again. The last one leads to the same preview as `/action R5; …`."""
    payload = dict(pending.payload)
    answers, text = list(payload.get("answers", [])), ctx.message.text.strip()
    step = GUIDED_STEPS[len(answers)]
    offered = payload.pop("readings", [])
    if text.isdecimal() and 0 < int(text) <= len(offered):  # the number of a reading offered
        text = offered[int(text) - 1]
    schedule = await _service(ctx).meeting(ctx.session, payload["meeting"])
    try:
        if step == "owner":
            await _owner_tokens(ctx, text)
        elif step == "when":
            _due(ctx, text, schedule)
    except WhenError as error:
        return escape(str(error))
    except AudienceError as error:
        readings = [error.rewrite(r) for r in error.readings]
        await ctx.services.conversations.update(ctx.session, pending,
                                                dict(payload, readings=readings))
        return Reply(escape(str(error)), [Choice(r.label, str(number)) for number, r
                                          in enumerate(error.readings, 1)])
    if step == "text" and _checked_text(text):
        return _checked_text(text)
    answers.append(text if step == "text" else text.replace(";", ","))
    if len(answers) < len(GUIDED_STEPS):
        await ctx.services.conversations.update(ctx.session, pending,
                                                dict(payload, answers=answers))
        return _question(GUIDED_STEPS[len(answers)])
    await ctx.services.conversations.end(ctx.session, ctx.chat_key, ctx.user.id)
    ctx.command, ctx.args = "action", "; ".join([payload["meeting"], *answers])
    return await action(ctx)


async def _owner_tokens(ctx: Context, text: str) -> list[str]:
    """OWNER in the audience grammar. Giving an action to others messages them: it needs the
    right to address others, as a reminder does (a meeting's owner whose role was lowered
    keeps only their own actions)."""
    tokens = await audiences.read(ctx, text)
    if not only_self(tokens, ctx.user.id, set()) and not ctx.can("reminders.address_others"):
        raise AudienceError(_("Only coordinators can give actions to others. Your role is "
                              "{role}.").format(role=role_label(ctx.role)))
    return tokens


async def _owner(ctx: Context, tokens: list[str]) -> str:
    return await describe(ctx.session, ctx.services.directory, tokens, ctx.chat_key)


def _confirm_choices() -> list[Choice]:
    return [Choice(_("Confirm"), "yes"), Choice(_("Cancel"), "no")]


async def confirm_step(ctx: Context, pending: PendingConversation):
    answer = preview_answer(ctx.message.text)
    if answer is None:
        return Reply(_("Please answer 1 to confirm or 2 to cancel."), _confirm_choices())
    payload = dict(pending.payload)
    await ctx.services.conversations.end(ctx.session, ctx.chat_key, ctx.user.id)
    if not answer:
        return _("Cancelled; nothing was saved or sent.")
    schedule = await ctx.session.get(Schedule, payload["schedule_id"])
    if schedule is None:
        return _("That meeting no longer exists; nothing was saved.")
    item, told = await _service(ctx).add_action(
        ctx.session, schedule, ctx.user, owner=payload["owner"],
        due_at=datetime.fromisoformat(payload["due_at"]), text=payload["text"])
    await audit.record(ctx.session, ctx.user.id, "meetings.action_create",
                       f"action:{item.id}", {"schedule": schedule.id},
                       at=ctx.services.clock.now())
    ctx.after_commit.append(_service(ctx).deliver)
    if not told:
        return _("Saved as action {id}, but none of its owners can be reached by me yet (they "
                 "must write to me once). It shows in {prefix}actions {meeting}.").format(
                     id=action_id(item.id), prefix=ctx.prefix, meeting=short_id(schedule.id))
    return _("Saved as action {id}; its owners have been told. To see the open actions: "
             "{prefix}actions {meeting}.").format(id=action_id(item.id), prefix=ctx.prefix,
                                                   meeting=short_id(schedule.id))


async def actions(ctx: Context):
    word = ctx.args.strip()
    if not word:
        items = await _service(ctx).my_actions(ctx.session, ctx.user)
        if not items:
            return _("You have no open actions.")
        heading = _("Your open actions ({count}):").format(count=len(items))
    else:
        schedule = await _meeting(ctx, word)
        if isinstance(schedule, str):
            return schedule
        items = await _service(ctx).open_actions(ctx.session, schedule)
        if not items:
            return _("No open actions for {id}.").format(id=short_id(schedule.id))
        heading = _("Open actions of {title} ({id}):").format(title=escape(schedule.title),
                                                              id=short_id(schedule.id))
    lines = [heading] + [await _service(ctx).action_line(ctx.session, item, _tz(ctx))
                         for item in items[:MAX_LISTED]]
    return "\n".join(lines)


async def _answerable(ctx: Context, word: str) -> MeetingItem | str:
    item = await _service(ctx).action(ctx.session, word)
    if item is None or not await _service(ctx).may_answer(ctx.session, item, ctx.user):
        return _("There is no action {id} for you. {prefix}actions lists yours.").format(
            id=escape(word[:20]), prefix=ctx.prefix)
    if item.status != OPEN:
        return _("Action {id} is already closed.").format(id=action_id(item.id))
    return item


async def _close(ctx: Context, status: str):
    word = ctx.args.strip()
    if not word:
        return ctx.usage()
    item = await _answerable(ctx, word)
    if isinstance(item, str):
        return item
    await _service(ctx).close(ctx.session, item, ctx.user, status)
    await audit.record(ctx.session, ctx.user.id, "meetings.action_close", f"action:{item.id}",
                       {"status": status}, at=ctx.services.clock.now())
    ctx.after_commit.append(_service(ctx).deliver)
    if status == DONE:
        return _("Thank you: action {id} is done.").format(id=action_id(item.id))
    return _("Noted: action {id} is not yours. Whoever recorded it has been told.").format(
        id=action_id(item.id))


async def done(ctx: Context):
    return await _close(ctx, DONE)


async def not_mine(ctx: Context):
    return await _close(ctx, DECLINED)


async def later(ctx: Context):
    word, _space, when = ctx.args.strip().partition(" ")
    if not word:
        return ctx.usage()
    item = await _answerable(ctx, word)
    if isinstance(item, str):
        return item
    if when.strip():
        return await _postpone(ctx, item, when.strip())
    await ctx.services.conversations.start(ctx.session, ctx.chat_key, ctx.user.id, NEW_DATE_KIND,
                                           {"action_id": item.id}, ttl=timedelta(hours=1))
    return _("By when can action {id} be done? Write a date, for example “next Friday” or "
             "“15/4”.").format(id=action_id(item.id))


async def new_date_step(ctx: Context, pending: PendingConversation):
    item = await ctx.session.get(MeetingItem, int(pending.payload["action_id"]))
    if item is None or item.status != OPEN:
        await ctx.services.conversations.end(ctx.session, ctx.chat_key, ctx.user.id)
        return _("That action is closed; nothing was changed.")
    return await _postpone(ctx, item, ctx.message.text, pending)


async def _postpone(ctx: Context, item: MeetingItem, text: str,
                    pending: PendingConversation | None = None):
    try:
        due_at = _due(ctx, text, await ctx.session.get(Schedule, item.schedule_id))
    except WhenError as error:
        return escape(str(error))  # a pending question stays: the next message tries again
    if pending is not None:
        await ctx.services.conversations.end(ctx.session, ctx.chat_key, ctx.user.id)
    old = item.due_at
    await _service(ctx).postpone(ctx.session, item, due_at)
    await audit.record(ctx.session, ctx.user.id, "meetings.action_postpone",
                       f"action:{item.id}", {"from": as_utc(old).isoformat() if old else None,
                                             "to": due_at.isoformat()},
                       at=ctx.services.clock.now())
    return _("Action {id} is now due {when}.").format(id=action_id(item.id),
                                                      when=moment(due_at, _tz(ctx)))


async def reassign(ctx: Context):
    parts = _parts(ctx.args, 2)
    if len(parts) < 2 or not parts[0] or not parts[1]:
        return ctx.usage()
    item = await _service(ctx).action(ctx.session, parts[0])
    schedule = await ctx.session.get(Schedule, item.schedule_id) if item else None
    if schedule is None or not (item.author_id == ctx.user.id
                                or _service(ctx).may_record(schedule, ctx.user)):
        return _("There is no action {id} that you may reassign.").format(id=escape(parts[0][:20]))
    try:
        owner = await _owner_tokens(ctx, parts[1])
    except AudienceError as error:
        return await audiences.ask_back(ctx, error, lambda new: f"{parts[0]}; {new}")
    await _service(ctx).reassign(ctx.session, item, owner)
    await audit.record(ctx.session, ctx.user.id, "meetings.action_reassign",
                       f"action:{item.id}", {"schedule": schedule.id},
                       at=ctx.services.clock.now())
    ctx.after_commit.append(_service(ctx).deliver)
    return _("Action {id} now goes to {owner}; they have been told.").format(
        id=action_id(item.id), owner=escape(await _owner(ctx, owner)))


# --- minutes ----------------------------------------------------------------------------------

async def minutes(ctx: Context):
    word, _space, date_text = ctx.args.strip().partition(" ")
    if not word:
        return ctx.usage()
    schedule = await _meeting(ctx, word)
    if isinstance(schedule, str):
        return schedule
    occurrence = None
    if date_text.strip():
        try:
            today = ctx.services.clock.now().date()
            occurrence = parse_date(date_text.strip(), today, future=False).isoformat()
        except WhenError as error:
            return escape(str(error))
    record = await _service(ctx).minutes(ctx.session, schedule, occurrence)
    owners = {item.id: await _owner(ctx, item.owner or []) for item in record.actions}
    name = f"minutes-{short_id(schedule.id)}-{record.occurrence}"
    text = documents.markdown(record, owners, _tz(ctx))
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
                  attachment=Attachment(f"{name}.docx", documents.docx(record, owners, _tz(ctx)),
                                        "application/vnd.openxmlformats-officedocument."
                                        "wordprocessingml.document"))]


# --- answering an action message with its number or words -------------------------------------

LATER = "later"
CHOICES = (DONE, LATER, DECLINED)


def _read_choice(text: str) -> str | None:
    """`1` `2` `3`, or a choice's label in the reader's language ("Meer tijd nodig")."""
    said = text.strip().rstrip(".)!").casefold()
    if said in {"1", "2", "3"}:
        return CHOICES[int(said) - 1]
    labels = {DONE: _("Done"), LATER: _("Need more time"), DECLINED: _("Not mine")}
    return next((key for key, label in labels.items() if label.casefold() == said), None)


async def answer_reads(ctx: Context, pending: PendingConversation) -> list[tuple[str, str]]:
    choice = _read_choice(ctx.message.text)
    found = []
    for item_id in (pending.payload or {}).get("actions", []) if choice else []:
        item = await ctx.session.get(MeetingItem, int(item_id))
        if item is not None and item.status == OPEN:
            found.append((f"{item.id}:{choice}", _("Action {id}: {text}").format(
                id=action_id(item.id), text=item.text[:60])))  # a choice's label: plain text
    return found


async def answer_step(ctx: Context, pending: PendingConversation):
    """Answers the action the router picked (`ctx.target`); it stops waiting for it."""
    item_id, _sep, choice = (ctx.target or "").partition(":")
    offered = (pending.payload or {}).get("actions", [])
    if choice not in CHOICES or not item_id.isdecimal() or int(item_id) not in offered:
        return _("That action is closed; nothing was changed.")
    # After "Need more time" the action is still open: it can still be answered.
    remaining = [i for i in offered if choice == LATER or i != int(item_id)]
    if remaining == offered:
        pass
    elif remaining:
        await ctx.services.conversations.update(ctx.session, pending, {"actions": remaining})
    else:
        await ctx.services.conversations.end(ctx.session, ctx.chat_key, ctx.user.id, ANSWER_KIND)
    ctx.args = action_id(int(item_id))
    return await {DONE: done, LATER: later, DECLINED: not_mine}[choice](ctx)


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
    conversations=[ConversationStep(CONFIRM_KIND, confirm_step, confirms=True),
                   ConversationStep(NEW_DATE_KIND, new_date_step),
                   ConversationStep(GUIDED_KIND, guided_step),
                   ConversationStep(ANSWER_KIND, answer_step, reads=answer_reads)],
)
