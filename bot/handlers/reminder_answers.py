"""Answers to meeting and deadline reminders: `/ack R12 yes`, and the background prompt
that reads "1", "I'll attend" or "je serai là" under a delivered reminder. The rules (who may
answer, which occurrence) live in bot/reminders."""
from __future__ import annotations

from datetime import datetime

from bot.conversations import PendingConversation
from bot.i18n import _
from bot.markup import escape
from bot.reminders.answers import ACK_ANSWERS, ACK_KIND, ack_offers, read_answer
from bot.reminders.formatting import moment
from bot.reminders.ids import parse_occurrence_token, parse_short_id
from bot.reminders.service import RemindersService
from bot.router import Context, HandlerResult


def _service(ctx: Context) -> RemindersService:
    return ctx.services.reminders


async def ack(ctx: Context) -> HandlerResult:
    """`/ack R12 yes` (also `oui`, `1`, "je serai là"…) answers the occurrence the person was
    last reminded of; `/ack R12 20260310T090000Z yes` (what the buttons send) a given one."""
    words = ctx.args.split()
    if len(words) < 2:
        return ctx.usage()
    occurrence = parse_occurrence_token(words[1]) if len(words) >= 3 else None
    said = words[2] if occurrence is not None else " ".join(words[1:])
    return await _record(ctx, words[0], occurrence, said, command=True)


async def _record(ctx: Context, schedule_word: str, occurrence: datetime | None, said: str, *,
                  command: bool = False) -> str:
    service = _service(ctx)
    schedule_id = parse_short_id(schedule_word)
    schedule = await service.get(ctx.session, schedule_id) if schedule_id else None
    if schedule is not None and occurrence is None:
        occurrence = service.occurrence_to_answer(schedule)
    answer = read_answer(said, schedule.kind, _labels(), command=command) if schedule else None
    # One answer for every refusal: someone the reminder does not address learns nothing,
    # not even whether it exists.
    if schedule is None or occurrence is None or answer is None \
            or not service.answerable(schedule, occurrence) \
            or not await service.may_answer(ctx.session, schedule, ctx.user, ctx.chat_key):
        return _("I could not record that answer: the reminder or the answer is unknown.")
    await service.record_ack(ctx.session, schedule, occurrence, ctx.user, answer)
    return _("Thank you, noted for {title}: {answer}.").format(
        title=escape(schedule.title), answer=_(ACK_ANSWERS[answer]))


def _labels() -> dict[str, str]:
    """The choices of a delivered reminder as the reader sees them."""
    return {"yes": _("I'll attend"), "no": _("Can't attend"), "done": _("Done")}


async def ack_reads(ctx: Context, pending: PendingConversation) -> list[tuple[str, str]]:
    """The reminders waiting for this person's answer that the message answers (`1`, `2`,
    a choice's label, "je serai là", "kan niet komen"…), as (key, label) pairs."""
    found = []
    for offer in ack_offers(pending):
        if read_answer(ctx.message.text, offer.get("kind", ""), _labels()) is None:
            continue
        schedule = await _service(ctx).get(ctx.session, int(offer["schedule_id"]))
        occurrence = parse_occurrence_token(offer.get("occurrence", ""))
        if schedule is None or occurrence is None:
            continue
        label = (_("Meeting “{title}” ({when})") if schedule.kind == "meeting"
                 else _("Deadline “{title}” ({when})")).format(
                     title=schedule.title,  # a choice's label: plain text
                     when=moment(occurrence, ctx.user.timezone or schedule.timezone))
        found.append((f"{schedule.id}:{offer['occurrence']}", label))
    return found


async def ack_step(ctx: Context, pending: PendingConversation) -> HandlerResult:
    """Answers the reminder the router picked (`ctx.target`); it stops waiting for it."""
    offers = ack_offers(pending)
    chosen = next((o for o in offers if f"{o['schedule_id']}:{o['occurrence']}" == ctx.target),
                  None)
    if chosen is None:
        return _("I could not record that answer: the reminder or the answer is unknown.")
    remaining = [o for o in offers if o is not chosen]
    if remaining:
        await ctx.services.conversations.update(ctx.session, pending, {"offers": remaining})
    else:
        await ctx.services.conversations.end(ctx.session, ctx.chat_key, ctx.user.id, ACK_KIND)
    return await _record(ctx, str(chosen["schedule_id"]),
                         parse_occurrence_token(chosen["occurrence"]), ctx.message.text)
