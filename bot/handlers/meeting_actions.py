"""Meeting actions in chat: /action (previewed, or guided one question at a time), /actions,
/done, /later, /notmine, /reassign, and answering an action message with its number or words;
with the look-ups every meetings command shares. Parsing and replies only; the rules live in
bot/meetings. An action is saved only after Confirm, like a reminder."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.audience import AudienceError, describe, only_self
from bot.conversations import PendingConversation, confirm_choices
from bot.handlers import audience as audiences
from bot.i18n import _
from bot.markup import bold, escape
from bot.meetings.models import DECLINED, DONE, OPEN, MeetingItem
from bot.meetings.service import ANSWER_KIND, MeetingsService
from bot.meetings.texts import action_id
from bot.messages import Choice, Reply
from bot.reminders.formatting import moment
from bot.reminders.ids import short_id
from bot.reminders.models import Schedule
from bot.router import Context, HandlerResult, UserError, role_label
from bot.trust import audit
from bot.when import END_OF_DAY, WhenError, parse_moment
from bot.db import as_utc

CONFIRM_KIND = "meetings.confirm"
NEW_DATE_KIND = "meetings.new_date"
MAX_TEXT = 1000
MAX_LISTED = 30


def _service(ctx: Context) -> MeetingsService:
    return ctx.services.meetings


def split_parts(args: str, count: int) -> list[str]:
    """The first `count - 1` parts split at `;`, the rest (free text) kept whole."""
    return [part.strip() for part in args.split(";", count - 1)]


def reader_tz(ctx: Context) -> str:
    return ctx.user.timezone or ctx.services.settings.timezone


def _no_meeting(ctx: Context, word: str) -> str:
    return _("There is no meeting {id} that you take part in. {prefix}reminders lists "
             "yours.").format(id=escape(word[:20]), prefix=ctx.prefix)


async def meeting_for(ctx: Context, word: str) -> Schedule:
    """The meeting named by `word` if the person takes part in it, else UserError (the same
    whether it does not exist or is not theirs)."""
    schedule = await _service(ctx).meeting(ctx.session, word)
    if schedule is None or not await _service(ctx).is_participant(ctx.session, schedule,
                                                                  ctx.user, ctx.chat_key):
        raise UserError(_no_meeting(ctx, word))
    return schedule


async def recordable(ctx: Context, word: str) -> Schedule:
    """A meeting whose decisions and actions this person may record, else UserError."""
    schedule = await meeting_for(ctx, word)
    if not _service(ctx).may_record(schedule, ctx.user):
        raise UserError(_("Only the meeting's owner or a coordinator records decisions and "
                          "actions of {id}; you can add agenda points with {prefix}agenda.")
                        .format(id=short_id(schedule.id), prefix=ctx.prefix))
    return schedule


def check_text(text: str) -> str | None:
    """The error for a text that cannot be recorded, else None."""
    if not text:
        return _("Please write the text after the last “;”.")
    if len(text) > MAX_TEXT:
        return _("The text is too long (at most {limit} characters).").format(limit=MAX_TEXT)
    return None



# --- actions ----------------------------------------------------------------------------------

def _due(ctx: Context, text: str, schedule: Schedule | None = None) -> datetime:
    """WHEN of an action: a date alone means the end of that day; "before the next meeting"
    the start of the series' next meeting."""
    found = _service(ctx).next_meeting_due(schedule, text) if schedule is not None else None
    return found or parse_moment(text, reader_tz(ctx), ctx.services.clock.now(),
                                 default_time=END_OF_DAY)


async def action(ctx: Context):
    parts = split_parts(ctx.args, 4)
    if len(parts) == 1 and parts[0]:
        return await _start_guided(ctx, parts[0])
    if len(parts) < 4 or not all(parts[:3]):
        return ctx.usage()
    schedule = await recordable(ctx, parts[0])
    problem = check_text(parts[3])
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
             _("Owner: {owner}").format(owner=escape(await owner_names(ctx, owner))),
             await audiences.recipients_preview(ctx, owner, parts[1]),
             _("Due: {when}.").format(when=moment(due_at, reader_tz(ctx))),
             _("Confirm?")]
    return Reply("\n".join(lines), confirm_choices())


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
    await recordable(ctx, word)
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
    if step == "text" and check_text(text):
        return check_text(text)
    answers.append(text if step == "text" else text.replace(";", ","))
    if len(answers) < len(GUIDED_STEPS):
        await ctx.services.conversations.update(ctx.session, pending,
                                                dict(payload, answers=answers))
        return _question(GUIDED_STEPS[len(answers)])
    await ctx.services.conversations.end(ctx.session, ctx.chat_key, ctx.user.id)
    ctx.command, ctx.args = "action", "; ".join([payload["meeting"], *answers])
    return await audiences.answered_anyway(action(ctx))


async def _owner_tokens(ctx: Context, text: str) -> list[str]:
    """OWNER in the audience grammar. Giving an action to others messages them: it needs the
    right to address others, as a reminder does (a meeting's owner whose role was lowered
    keeps only their own actions)."""
    tokens = await audiences.read(ctx, text)
    if not only_self(tokens, ctx.user.id, set()) and not ctx.can("reminders.address_others"):
        raise AudienceError(_("Only coordinators can give actions to others. Your role is "
                              "{role}.").format(role=role_label(ctx.role)))
    return tokens


async def owner_names(ctx: Context, tokens: list[str]) -> str:
    return await describe(ctx.session, ctx.services.directory, tokens, ctx.chat_key)


async def save_action(ctx: Context, payload: dict[str, Any]) -> HandlerResult:
    schedule = await _service(ctx).meeting_by_id(ctx.session, int(payload["schedule_id"]))
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
        schedule = await meeting_for(ctx, word)
        items = await _service(ctx).open_actions(ctx.session, schedule)
        if not items:
            return _("No open actions for {id}.").format(id=short_id(schedule.id))
        heading = _("Open actions of {title} ({id}):").format(title=escape(schedule.title),
                                                              id=short_id(schedule.id))
    lines = [heading] + [await _service(ctx).action_line(ctx.session, item, reader_tz(ctx))
                         for item in items[:MAX_LISTED]]
    return "\n".join(lines)


async def _answerable(ctx: Context, word: str) -> MeetingItem:
    item = await _service(ctx).action(ctx.session, word)
    if item is None or not await _service(ctx).may_answer(ctx.session, item, ctx.user):
        raise UserError(_("There is no action {id} for you. {prefix}actions lists "
                          "yours.").format(id=escape(word[:20]), prefix=ctx.prefix))
    if item.status != OPEN:
        raise UserError(_("Action {id} is already closed.").format(id=action_id(item.id)))
    return item


async def _close(ctx: Context, status: str):
    word = ctx.args.strip()
    if not word:
        return ctx.usage()
    item = await _answerable(ctx, word)
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
    if when.strip():
        return await _postpone(ctx, item, when.strip())
    await ctx.services.conversations.start(ctx.session, ctx.chat_key, ctx.user.id, NEW_DATE_KIND,
                                           {"action_id": item.id}, ttl=timedelta(hours=1))
    return _("By when can action {id} be done? Write a date, for example “next Friday” or "
             "“15/4”.").format(id=action_id(item.id))


async def new_date_step(ctx: Context, pending: PendingConversation):
    item = await _service(ctx).action_by_id(ctx.session, int(pending.payload["action_id"]))
    if item is None or item.status != OPEN:
        await ctx.services.conversations.end(ctx.session, ctx.chat_key, ctx.user.id)
        return _("That action is closed; nothing was changed.")
    return await _postpone(ctx, item, ctx.message.text, pending)


async def _postpone(ctx: Context, item: MeetingItem, text: str,
                    pending: PendingConversation | None = None):
    try:
        due_at = _due(ctx, text, await _service(ctx).meeting_of(ctx.session, item))
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
                                                      when=moment(due_at, reader_tz(ctx)))


async def reassign(ctx: Context):
    parts = split_parts(ctx.args, 2)
    if len(parts) < 2 or not parts[0] or not parts[1]:
        return ctx.usage()
    item = await _service(ctx).action(ctx.session, parts[0])
    schedule = await _service(ctx).meeting_of(ctx.session, item) if item else None
    if item is None or schedule is None or not (item.author_id == ctx.user.id
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
        id=action_id(item.id), owner=escape(await owner_names(ctx, owner)))



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
        item = await _service(ctx).action_by_id(ctx.session, int(item_id))
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
    command = {DONE: done, LATER: later, DECLINED: not_mine}[choice]
    return await audiences.answered_anyway(command(ctx))


