"""What the meetings feature says to people: action ids (`A7`), status labels, and the
message to an action's owner with its choices. Rendering only, in the current language."""
from __future__ import annotations

from bot.audience import Recipient
from datetime import datetime

from bot.i18n import N_, _
from bot.markup import escape
from bot.meetings.models import DECLINED, DONE, OPEN, MeetingItem
from bot.messages import Choice, Reply, command_prefix
from bot.reminders.formatting import moment
from bot.reminders.ids import parse_letter_id
from bot.reminders.models import Schedule
from bot.db import as_utc

STATUS_LABELS = {OPEN: N_("still open"), DONE: N_("done"), DECLINED: N_("not theirs")}


def action_id(item_id: int) -> str:
    return f"A{item_id}"


def parse_action_id(text: str) -> int | None:
    return parse_letter_id(text, "A")


def owner_message(item: MeetingItem, schedule: Schedule, recipient: Recipient,
                  what: str) -> Reply:
    tz = recipient.timezone or schedule.timezone
    heading = {
        "new": _("Action {id} for you, from the meeting “{title}”:"),
        "reassigned": _("Action {id} for you, from the meeting “{title}”:"),
        "due": _("Reminder: action {id} from the meeting “{title}” is due soon:"),
        "late": _("Action {id} from the meeting “{title}” is overdue:"),
    }[what]
    prefix = command_prefix(recipient.chat_key)
    aid = action_id(item.id)
    lines = [heading.format(id=aid, title=escape(schedule.title)), escape(item.text),
             _("Due: {when}.").format(when=moment(due_of(item), tz)),
             _("Answer with {prefix}done {id}, {prefix}later {id} DATE or "
               "{prefix}notmine {id}.").format(prefix=prefix, id=aid)]
    return Reply("\n".join(lines), answer_choices(aid, prefix))


def due_of(item: MeetingItem) -> datetime:
    """An action's due date, in UTC (actions have one; agenda points and decisions none)."""
    if item.due_at is None:
        raise ValueError(f"item {item.id} is not an action")
    return as_utc(item.due_at)


def answer_choices(aid: str, prefix: str = "/") -> list[Choice]:
    return [Choice(_("Done"), f"{prefix}done {aid}"),
            Choice(_("Need more time"), f"{prefix}later {aid}"),
            Choice(_("Not mine"), f"{prefix}notmine {aid}")]
