"""Focal points edit their own directory entry in chat (`/myentry`), one field at a time, with a
summary to confirm; coordinators see the changes (`/changes`), undo one (`/revert`) and, when
changes wait for approval, `/approve` or `/reject` them. The rules are in
bot/directory/changes.py and the value checks in bot/directory/fields.py; the commands are
registered in the FEATURE table of bot/handlers/directory.py."""
from __future__ import annotations

from datetime import date, timedelta

from bot.conversations import confirmation_answer
from bot.directory import fields
from bot.directory.changes import LIVE, PENDING, describe_change
from bot.directory.records import EntryRecord
from bot.directory.verification import ANSWER_KIND as VERIFY_KIND
from bot.directory.verification import question
from bot.i18n import _, current_locale, ngettext
from bot.markup import bold, escape
from bot.messages import Choice, Reply
from bot.router import Context
from bot.trust import audit

EDIT_KIND = "directory.edit"
MENU = ("phone", "email", "address", "hours", "languages", "service", fields.AVAILABILITY,
        "save", "cancel")
BACK = "0"
MAX_CHANGES_SHOWN = 30


def _directory(ctx: Context):
    return ctx.services.directory


def _name(entry: EntryRecord) -> str:
    locale = current_locale()
    return entry.name_in(locale) if locale in {"fr", "nl", "de"} else entry.organisation


def _service_field() -> str:
    """The description is edited in the language the focal point writes to the bot in."""
    return f"service_{current_locale()}"


def _stored(field: str) -> str:
    return _service_field() if field == "service" else field


def current_value(entry: EntryRecord, field: str) -> str:
    """The entry's value of a menu field, stored form (as `changes.field_value`)."""
    if field == "languages":
        return ";".join(entry.languages)
    if field == "hours":
        return entry.hours
    if field == "service":
        return entry.services.get(current_locale(), "")
    if field == fields.AVAILABILITY:
        return entry.attributes.get(fields.AVAILABILITY, "")
    return getattr(entry, field)


# ---- starting ----------------------------------------------------------------------------
async def myentry(ctx: Context):
    if not ctx.message.is_direct:
        return _("For your safety, {prefix}{command} works only in a direct chat with me.").format(
            prefix=ctx.prefix, command=ctx.command)
    directory = _directory(ctx)
    mine = await directory.changes.entries_of(ctx.session, ctx.user)
    wanted = ctx.args.strip()
    if wanted:
        if directory.index.get(wanted) is None:
            return _("There is no entry {id}.").format(id=escape(wanted[:100]))
        if wanted not in mine:
            return _("Only the focal point of {id} can edit it. A coordinator registers the "
                     "focal point with {prefix}invite.").format(id=escape(wanted[:100]),
                                                               prefix=ctx.prefix)
        return await start_editor(ctx, wanted)
    if not mine:
        return _("You are not registered as the focal point of a directory entry. Ask your "
                 "coordinator for an invitation for your entry.")
    if len(mine) > 1:
        return Reply(_("You are the focal point of several entries. Which one?"),
                     [Choice(_name(directory.index.get(e)), f"{ctx.prefix}myentry {e}")
                      for e in mine])
    return await start_editor(ctx, mine[0])


async def start_editor(ctx: Context, entry_id: str, after: list[str] | None = None) -> Reply:
    """Opens the editor; `after` are re-verification questions to ask again when it ends
    (open questions are kept too when the person typed /myentry while they were pending)."""
    if after is None:
        pending = await ctx.services.conversations.current(ctx.session, ctx.chat_key,
                                                           ctx.user.id)
        after = list(pending.payload.get("entries", [])) if pending is not None \
            and pending.kind == VERIFY_KIND else []
    payload = {"entry": entry_id, "step": "menu", "values": {}, "after": list(after)}
    await ctx.services.conversations.start(ctx.session, ctx.chat_key, ctx.user.id, EDIT_KIND,
                                           payload, ttl=timedelta(days=1))
    return menu(ctx, payload)


def menu(ctx: Context, payload: dict, note: str | None = None) -> Reply:
    entry = _directory(ctx).index.get(payload["entry"])
    values = payload["values"]
    lines = [note] if note else []
    lines.append(_("Your entry {name} (`{id}`). What do you want to change? Answer with a "
                   "number.").format(name=bold(_name(entry)), id=entry.id))
    # The values, unnumbered: the choices below carry the numbers (buttons on Telegram).
    for field in MENU[:7]:
        shown = values.get(field, current_value(entry, field))
        mark = " ✎" if field in values else ""
        lines.append("• " + _("{field}: {value}").format(
            field=fields.field_label(_stored(field)),
            value=escape(fields.value_text(field, shown))) + mark)
    labels = [fields.field_label(_stored(f)) for f in MENU[:7]] + [_("Review and save"),
                                                                   _("Cancel")]
    return Reply("\n".join(lines), [Choice(label, str(n)) for n, label in
                                    enumerate(labels, start=1)])


# ---- the conversation --------------------------------------------------------------------
async def edit_step(ctx: Context, pending):
    payload = dict(pending.payload)
    if _directory(ctx).index.get(payload.get("entry", "")) is None:
        await ctx.services.conversations.end(ctx.session, ctx.chat_key, ctx.user.id)
        return _("That entry no longer exists; nothing was changed.")
    step = payload.get("step", "menu")
    text = ctx.message.text.strip()
    if step == "menu":
        return await _menu_answer(ctx, pending, payload, text)
    if step == "confirm":
        return await _confirm_answer(ctx, payload, text)
    if text == BACK:
        return await _back_to_menu(ctx, pending, payload)
    if step == "availability_until":
        return await _until_answer(ctx, pending, payload, text)
    return await _field_answer(ctx, pending, payload, step, text)


def _menu_choice(text: str, entry_fields: tuple[str, ...] = MENU) -> str | None:
    word = text.strip().casefold().rstrip(".")
    if word.isdecimal() and 1 <= int(word) <= len(entry_fields):
        return entry_fields[int(word) - 1]
    labels = {fields.field_label(_stored(f)).casefold(): f for f in entry_fields[:7]}
    labels.update({_("Review and save").casefold(): "save", _("Cancel").casefold(): "cancel"})
    return labels.get(word)


async def _menu_answer(ctx: Context, pending, payload: dict, text: str):
    choice = _menu_choice(text)
    if choice is None:
        return menu(ctx, payload, _("Please answer with a number from 1 to 9."))
    if choice == "cancel":
        return await _finish(ctx, payload, [_("Cancelled; your entry was not changed.")])
    if choice == "save":
        return await _summary(ctx, pending, payload)
    payload["step"] = choice
    await ctx.services.conversations.update(ctx.session, pending, payload)
    return _prompt(ctx, choice)


def _prompt(ctx: Context, field: str) -> Reply:
    text = _(fields.FIELD_SPECS[field].prompt) + " " + _("(0 goes back to the menu.)")
    if field == fields.AVAILABILITY:
        return Reply(text, [Choice(_("temporarily closed"), "1"), Choice(_("full"), "2"),
                            Choice(_("open as usual"), "3")])
    return Reply(text)


async def _back_to_menu(ctx: Context, pending, payload: dict):
    payload["step"] = "menu"
    await ctx.services.conversations.update(ctx.session, pending, payload)
    return menu(ctx, payload)


async def _field_answer(ctx: Context, pending, payload: dict, field: str, text: str):
    try:
        value, note = _validated(ctx, field, text)
    except fields.InvalidValue as problem:
        return [Reply("⚠ " + escape(str(problem))), _prompt(ctx, field)]
    if field == fields.AVAILABILITY and value:  # closed or full: ask until when
        payload.update(step="availability_until", kind=value)
        await ctx.services.conversations.update(ctx.session, pending, payload)
        return Reply(_("Until when? Give the day you expect to open again, e.g. \"15/04\" or "
                       "\"in two weeks\". (0 goes back to the menu.)"))
    return await _keep(ctx, pending, payload, field, value, note)


def _validated(ctx: Context, field: str, text: str) -> tuple[str, str | None]:
    """The stored form of a typed value and an optional remark; InvalidValue when refused."""
    directory = _directory(ctx)
    if field in {"phone", "email", "address", "hours"} and fields.is_clear(text):
        return "", None
    if field == "phone":
        return fields.normalise_phone(text), None
    if field == "email":
        return fields.normalise_email(text), None
    if field == "address":
        value, municipalities = fields.normalise_address(text, directory.gazetteer)
        lang = current_locale() if current_locale() in {"fr", "nl", "de"} else "en"
        places = ", ".join(directory.area_label(m, lang) for m in municipalities)
        return value, _("Postal code of {places}.").format(places=escape(places))
    if field == "hours":
        return fields.normalise_text(text), None
    if field == "languages":
        return ";".join(fields.normalise_languages(text)), None
    if field == "service":
        return fields.normalise_text(text, fields.MAX_SERVICE), None
    kind = fields.availability_kind(text)
    if kind is None:
        raise fields.InvalidValue(_("Answer 1 (closed), 2 (full) or 3 (open as usual)."))
    return kind, None


async def _until_answer(ctx: Context, pending, payload: dict, text: str):
    try:
        until = fields.availability_until(text, _directory(ctx).today())
    except fields.InvalidValue as problem:
        return Reply("⚠ " + escape(str(problem)) + "\n" + _(
            "Until when? Give the day you expect to open again, e.g. \"15/04\" or \"in two "
            "weeks\". (0 goes back to the menu.)"))
    value = fields.availability_value(payload.pop("kind", "closed"), until)
    return await _keep(ctx, pending, payload, fields.AVAILABILITY, value, None)


async def _keep(ctx: Context, pending, payload: dict, field: str, value: str, note: str | None):
    """Remembers the value in the conversation (nothing is written before Confirm)."""
    values = dict(payload["values"])
    values[field] = value
    payload.update(values=values, step="menu")
    await ctx.services.conversations.update(ctx.session, pending, payload)
    done = "✓ " + _("{field}: {value}").format(
        field=fields.field_label(_stored(field)), value=escape(fields.value_text(field, value)))
    return menu(ctx, payload, done + (f" ({note})" if note else ""))


async def _summary(ctx: Context, pending, payload: dict):
    entry = _directory(ctx).index.get(payload["entry"])
    changed = {f: v for f, v in payload["values"].items() if v != current_value(entry, f)}
    if not changed:
        return menu(ctx, payload, _("You have not changed anything yet. Choose a field, or 9 to "
                                    "stop."))
    lines = [_("Please check your changes to {name}:").format(name=bold(_name(entry)))]
    for field, value in changed.items():
        lines.append("• " + _("{field}: {old} → {new}").format(
            field=fields.field_label(_stored(field)),
            old=escape(fields.value_text(field, current_value(entry, field))),
            new=escape(fields.value_text(field, value))))
    if _directory(ctx).changes.need_approval:
        lines.append(_("A coordinator approves them before they are shown to others."))
    lines.append(_("Confirm?"))
    payload["step"] = "confirm"
    await ctx.services.conversations.update(ctx.session, pending, payload)
    return Reply("\n".join(lines), [Choice(_("Confirm"), "1"), Choice(_("Cancel"), "2")])


def _confirmation(text: str) -> bool | None:
    found = confirmation_answer(text)
    if found is not None:
        return found
    word = text.strip().casefold()
    return {_("Confirm").casefold(): True, _("Cancel").casefold(): False}.get(word)


async def _confirm_answer(ctx: Context, payload: dict, text: str):
    answer = _confirmation(text)
    if answer is None:
        return Reply(_("Please answer 1 to confirm or 2 to cancel."),
                     [Choice(_("Confirm"), "1"), Choice(_("Cancel"), "2")])
    if not answer:
        return await _finish(ctx, payload, [_("Cancelled; your entry was not changed.")])
    directory = _directory(ctx)
    entry_id = payload["entry"]
    if not await directory.changes.may_edit(ctx.session, ctx.user, entry_id):
        return await _finish(ctx, payload, [_("You are no longer the focal point of this "
                                              "entry; nothing was changed.")])
    values = {_stored(f): v for f, v in payload["values"].items()}
    outcome = await directory.changes.submit(ctx.session, ctx.user, entry_id, values)
    await audit.record(ctx.session, ctx.user.id, "directory.edit", f"entry:{entry_id}",
                       {"fields": sorted(c.field for c in outcome.changes),
                        "live": outcome.live}, at=ctx.services.clock.now())
    if outcome.live:
        ctx.after_commit.append(index_update(ctx, outcome))
        done = ngettext("Saved: {n} change to {name} is live. Thank you for keeping it current.",
                        "Saved: {n} changes to {name} are live. Thank you for keeping it "
                        "current.", len(outcome.changes))
    else:
        done = ngettext("Saved: {n} change to {name} waits for a coordinator's approval.",
                        "Saved: {n} changes to {name} wait for a coordinator's approval.",
                        len(outcome.changes))
    return await _finish(ctx, payload, [done.format(n=len(outcome.changes),
                                                    name=bold(_name(outcome.record)))])


async def _finish(ctx: Context, payload: dict, replies: list):
    """Ends the editor; re-verification questions that were open come back."""
    conversations = ctx.services.conversations
    await conversations.end(ctx.session, ctx.chat_key, ctx.user.id)
    index = _directory(ctx).index
    after = [e for e in payload.get("after", []) if index.get(e) is not None]
    if after:
        await conversations.start(ctx.session, ctx.chat_key, ctx.user.id, VERIFY_KIND,
                                  {"entries": after}, ttl=timedelta(days=14))
        replies.append(question(index.get(after[0]), ctx.prefix))
    return replies


def index_update(ctx: Context, outcome):
    """After the commit: swap the entry in the search index, or rebuild it when a field the
    search reads (languages, description) changed."""
    directory = _directory(ctx)
    services = ctx.services

    async def update() -> None:
        if outcome.searched:
            async with services.db.session() as session:
                await directory.refresh(session)
        else:
            directory.index.replace(outcome.record)
    return update


# ---- coordinators ------------------------------------------------------------------------
async def changes(ctx: Context):
    directory = _directory(ctx)
    entry_id = ctx.args.strip() or None
    found = await directory.changes.recent(ctx.session, entry_id=entry_id)
    if not found:
        return _("No changes by focal points in the last 14 days, and none waiting.")
    names = await directory.changes.names(ctx.session, [c.changed_by for c in found])
    lines = [_("Changes by focal points in the last 14 days (newest first):")]
    for change in found[:MAX_CHANGES_SHOWN]:
        record = directory.index.get(change.entry_id)
        lines.append(describe_change(change, _name(record) if record else "",
                                     names.get(change.changed_by, "")))
    if any(c.status == LIVE for c in found):
        lines.append(_("To undo one: {prefix}revert NUMBER.").format(prefix=ctx.prefix))
    if any(c.status == PENDING for c in found):
        lines.append(_("Waiting for your approval: {prefix}approve ENTRY or {prefix}reject "
                       "ENTRY.").format(prefix=ctx.prefix))
    return "\n".join(lines)


async def revert(ctx: Context):
    number = ctx.args.strip().lstrip("#")
    if not number.isdecimal() or len(number) > 9:
        return ctx.usage()
    directory = _directory(ctx)
    result, outcome, change = await directory.changes.revert(ctx.session, ctx.user, int(number))
    if result == "unknown":
        return _("There is no change #{number}.").format(number=number)
    if result == "not_live":
        return _("Change #{number} is not live (it was reverted, rejected or still waits for "
                 "approval).").format(number=number)
    if result == "superseded":
        return _("A later change of the same field came after #{number}: revert that one "
                 "first ({prefix}changes {id}).").format(number=number, prefix=ctx.prefix,
                                                          id=change.entry_id)
    if result == "no_entry":
        return _("The entry of change #{number} no longer exists.").format(number=number)
    await audit.record(ctx.session, ctx.user.id, "directory.revert", f"entry:{change.entry_id}",
                       {"change": change.id, "field": change.field},
                       at=ctx.services.clock.now())
    ctx.after_commit.append(index_update(ctx, outcome))
    return _("Reverted #{number}: {field} of {name} is back to {value}.").format(
        number=number, field=fields.field_label(change.field), name=bold(_name(outcome.record)),
        value=escape(fields.value_text(change.field, change.old_value)))


async def approve(ctx: Context):
    return await _decide(ctx, True)


async def reject(ctx: Context):
    return await _decide(ctx, False)


async def _decide(ctx: Context, approving: bool):
    entry_id = ctx.args.strip()
    if not entry_id:
        return ctx.usage()
    directory = _directory(ctx)
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
    return text.format(n=len(outcome.changes), name=bold(_name(outcome.record)))


# ---- shown in answers and in /entry ----------------------------------------------------------
def availability_line(entry: EntryRecord, today: date) -> str | None:
    """"Temporarily closed until …" while the end date has not passed."""
    parsed = fields.parse_availability(entry.attributes.get(fields.AVAILABILITY, ""))
    if parsed is None or parsed[1] < today:
        return None
    return "⚠ " + _("Temporarily closed until {date}.").format(date=parsed[1].isoformat()) \
        if parsed[0] == "closed" else "⚠ " + _("Full until {date}.").format(
            date=parsed[1].isoformat())


async def focal_update_line(ctx: Context, entry_id: str) -> str | None:
    when = await _directory(ctx).changes.last_focal_update(ctx.session, entry_id)
    if when is None:
        return None
    return _("Updated by its focal point on {date}.").format(date=when.date().isoformat())


# ---- the completeness campaign (bot/directory/campaign.py) ---------------------------------
CAMPAIGN_KIND = "directory.campaign"


async def complete_entries(ctx: Context):
    campaign = _directory(ctx).campaign
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
    return Reply("\n".join(lines), [Choice(_("Confirm"), "1"), Choice(_("Cancel"), "2")])


async def campaign_step(ctx: Context, pending):
    answer = _confirmation(ctx.message.text)
    if answer is None:
        return Reply(_("Please answer 1 to confirm or 2 to cancel."),
                     [Choice(_("Confirm"), "1"), Choice(_("Cancel"), "2")])
    await ctx.services.conversations.end(ctx.session, ctx.chat_key, ctx.user.id)
    if not answer:
        return _("Cancelled; nobody was asked.")
    campaign = _directory(ctx).campaign
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


async def _campaign_status(ctx: Context):
    progress = await _directory(ctx).campaign.progress(ctx.session)
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
