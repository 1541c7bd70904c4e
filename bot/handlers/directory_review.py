"""Coordinators review what focal points changed (`/changes`, `/revert`, and `/approve` or
`/reject` when changes wait for approval) and run the completeness campaign
(`/complete_entries`, bot/directory/campaign.py)."""
from __future__ import annotations

from datetime import timedelta

from bot.conversations import PendingConversation, confirm_choices, preview_answer
from bot.directory import fields
from bot.directory.changes import LIVE, PENDING, DirectoryChange, describe_change
from bot.handlers.directory_edit import index_update
from bot.handlers.directory_entries import directory_of, display_name
from bot.i18n import _, ngettext
from bot.markup import bold, escape
from bot.messages import Reply
from bot.router import Context
from bot.trust import audit

MAX_CHANGES_SHOWN = 30
CAMPAIGN_KIND = "directory.campaign"


async def changes(ctx: Context) -> str | Reply:
    directory = directory_of(ctx)
    entry_id = ctx.args.strip() or None
    found = await directory.changes.recent(ctx.session, entry_id=entry_id)
    if not found:
        return _("No changes by focal points in the last 14 days, and none waiting.")
    names = await directory.changes.names(ctx.session, [c.changed_by for c in found])
    lines = [_("Changes by focal points in the last 14 days (newest first):")]
    for change in found[:MAX_CHANGES_SHOWN]:
        record = directory.index.get(change.entry_id)
        lines.append(describe_change(change, display_name(record) if record else "",
                                     names.get(change.changed_by or 0, "")))
    if any(c.status == LIVE for c in found):
        lines.append(_("To undo one: {prefix}revert NUMBER.").format(prefix=ctx.prefix))
    if any(c.status == PENDING for c in found):
        lines.append(_("Waiting for your approval: {prefix}approve ENTRY or {prefix}reject "
                       "ENTRY.").format(prefix=ctx.prefix))
    return "\n".join(lines)


async def revert(ctx: Context) -> str | Reply:
    number = ctx.args.strip().lstrip("#")
    if not number.isdecimal() or len(number) > 9:
        return ctx.usage()
    directory = directory_of(ctx)
    result, outcome, change = await directory.changes.revert(ctx.session, ctx.user, int(number))
    if result != "ok" or outcome is None or outcome.record is None or change is None:
        return _revert_refusal(ctx, result, number, change)
    await audit.record(ctx.session, ctx.user.id, "directory.revert", f"entry:{change.entry_id}",
                       {"change": change.id, "field": change.field},
                       at=ctx.services.clock.now())
    ctx.after_commit.append(index_update(ctx, outcome))
    return _("Reverted #{number}: {field} of {name} is back to {value}.").format(
        number=number, field=fields.field_label(change.field),
        name=bold(display_name(outcome.record)),
        value=escape(fields.value_text(change.field, change.old_value)))


def _revert_refusal(ctx: Context, result: str, number: str,
                    change: DirectoryChange | None) -> str:
    if result == "not_live":
        return _("Change #{number} is not live (it was reverted, rejected or still waits for "
                 "approval).").format(number=number)
    if result == "superseded" and change is not None:
        return _("A later change of the same field came after #{number}: revert that one "
                 "first ({prefix}changes {id}).").format(number=number, prefix=ctx.prefix,
                                                          id=change.entry_id)
    if result == "no_entry":
        return _("The entry of change #{number} no longer exists.").format(number=number)
    return _("There is no change #{number}.").format(number=number)


async def approve(ctx: Context) -> str | Reply:
    return await _decide(ctx, True)


async def reject(ctx: Context) -> str | Reply:
    return await _decide(ctx, False)


async def _decide(ctx: Context, approving: bool) -> str | Reply:
    entry_id = ctx.args.strip()
    if not entry_id:
        return ctx.usage()
    directory = directory_of(ctx)
    outcome = await directory.changes.decide(ctx.session, ctx.user, entry_id, approving)
    if outcome.nothing:
        return _("No changes to {id} wait for approval.").format(id=escape(entry_id[:100]))
    await audit.record(ctx.session, ctx.user.id,
                       "directory.approve" if approving else "directory.reject",
                       f"entry:{entry_id}", {"changes": [c.id for c in outcome.changes]},
                       at=ctx.services.clock.now())
    if approving:
        ctx.after_commit.append(index_update(ctx, outcome))
        text = ngettext("Approved: {n} change to {name} is live.",
                        "Approved: {n} changes to {name} are live.", len(outcome.changes))
    else:
        text = ngettext("Rejected: {n} change to {name}; the entry is unchanged.",
                        "Rejected: {n} changes to {name}; the entry is unchanged.",
                        len(outcome.changes))
    name = display_name(outcome.record) if outcome.record else entry_id
    return text.format(n=len(outcome.changes), name=bold(name))



# ---- the completeness campaign (bot/directory/campaign.py) ---------------------------------
async def complete_entries(ctx: Context) -> str | Reply:
    campaign = directory_of(ctx).campaign
    word = ctx.args.strip().casefold()
    if word == "status":
        return await _campaign_status(ctx)
    if word:
        return ctx.usage()
    plan = await campaign.plan(ctx.session)
    lines = []
    if plan.targets:
        lines.append(ngettext(
            "{n} focal point whose entry lacks a phone number or an e-mail address will be asked "
            "to complete it, with up to two reminders if they do not answer (never on a public "
            "holiday or while they are away).",
            "{n} focal points whose entry lacks a phone number or an e-mail address will be "
            "asked to complete it, with up to two reminders if they do not answer (never on a "
            "public holiday or while they are away).", len(plan.targets)).format(
            n=len(plan.targets)))
    else:
        lines.append(_("No focal point to ask: every incomplete entry either has no focal point "
                       "I can reach or was already asked."))
    if plan.unreachable:
        lines.append(ngettext(
            "{n} incomplete entry has no focal point I can reach ({prefix}incomplete lists the "
            "entries without a contact).",
            "{n} incomplete entries have no focal point I can reach ({prefix}incomplete lists "
            "the entries without a contact).", plan.unreachable).format(
            n=plan.unreachable, prefix=ctx.prefix))
    if plan.already_asked:
        lines.append(ngettext("{n} entry was already asked and is not asked again.",
                              "{n} entries were already asked and are not asked again.",
                              plan.already_asked).format(n=plan.already_asked))
    if not plan.targets:
        return "\n".join(lines)
    await ctx.services.conversations.start(ctx.session, ctx.chat_key, ctx.user.id,
                                           CAMPAIGN_KIND, {}, ttl=timedelta(hours=1))
    lines.append(_("Confirm?"))
    return Reply("\n".join(lines), confirm_choices())


async def campaign_step(ctx: Context, pending: PendingConversation) -> str | Reply:
    answer = preview_answer(ctx.message.text)
    if answer is None:
        return Reply(_("Please answer 1 to confirm or 2 to cancel."), confirm_choices())
    await ctx.services.conversations.end(ctx.session, ctx.chat_key, ctx.user.id)
    if not answer:
        return _("Cancelled; nobody was asked.")
    campaign = directory_of(ctx).campaign
    number, count = await campaign.start(ctx.session, ctx.user)
    await audit.record(ctx.session, ctx.user.id, "directory.campaign", f"campaign:{number}",
                       {"requests": count}, at=ctx.services.clock.now())

    async def send_now() -> None:
        await campaign.run_due()
    ctx.after_commit.append(send_now)
    return ngettext("Campaign {number} started: {n} focal point is being asked. "
                    "{prefix}complete_entries status shows who answered.",
                    "Campaign {number} started: {n} focal points are being asked. "
                    "{prefix}complete_entries status shows who answered.", count).format(
        number=number, n=count, prefix=ctx.prefix)


async def _campaign_status(ctx: Context) -> str:
    progress = await directory_of(ctx).campaign.progress(ctx.session)
    if progress is None:
        return _("No completeness campaign yet: {prefix}complete_entries starts one.").format(
            prefix=ctx.prefix)
    return _("Campaign {number}: {asked}, {answered}, {waiting}.").format(
        number=progress.campaign,
        asked=ngettext("{n} focal point asked", "{n} focal points asked",
                       progress.asked).format(n=progress.asked),
        answered=ngettext("{n} completed their entry", "{n} completed their entry",
                          progress.answered).format(n=progress.answered),
        waiting=ngettext("{n} not yet", "{n} not yet", progress.waiting).format(
            n=progress.waiting))

