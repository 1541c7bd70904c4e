"""Focal points edit their own directory entry in chat (`/myentry`), one field at a time, with a
summary to confirm. The rules are in bot/directory/changes.py and the value checks in
bot/directory/fields.py; coordinators review the changes in directory_review.py; the commands
are registered in the FEATURE table of bot/handlers/directory.py."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from bot.conversations import PendingConversation, confirm_choices, preview_answer
from bot.directory import fields
from bot.directory.changes import Outcome
from bot.directory.records import EntryRecord
from bot.directory.verification import ANSWER_KIND as VERIFY_KIND
from bot.directory.verification import question
from bot.handlers.directory_entries import directory_of, display_name, known_entry
from bot.i18n import _, current_locale, ngettext
from bot.markup import bold, escape
from bot.messages import Choice, Reply
from bot.router import Context, HandlerResult
from bot.trust import audit

EDIT_KIND = "directory.edit"
MENU = ("phone", "email", "address", "hours", "languages", "service", fields.AVAILABILITY,
        "save", "cancel")
BACK = "0"
# The editor's state in its pending conversation: entry, step, values typed so far, and the
# re-verification questions to ask again after it.
Payload = dict[str, Any]


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
async def myentry(ctx: Context) -> HandlerResult:
    directory = directory_of(ctx)
    mine = await directory.changes.entries_of(ctx.session, ctx.user)
    wanted = ctx.args.strip()
    if wanted:
        known_entry(ctx, wanted)
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
                     [Choice(display_name(known_entry(ctx, e)), f"{ctx.prefix}myentry {e}")
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


def menu(ctx: Context, payload: Payload, note: str | None = None) -> Reply:
    entry = known_entry(ctx, payload["entry"])
    values = payload["values"]
    lines = [note] if note else []
    lines.append(_("Your entry {name} (`{id}`). What do you want to change? Answer with a "
                   "number.").format(name=bold(display_name(entry)), id=entry.id))
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
async def edit_step(ctx: Context, pending: PendingConversation) -> HandlerResult:
    payload = dict(pending.payload)
    if directory_of(ctx).index.get(payload.get("entry", "")) is None:
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


async def _menu_answer(ctx: Context, pending: PendingConversation, payload: Payload,
                       text: str) -> HandlerResult:
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


async def _back_to_menu(ctx: Context, pending: PendingConversation,
                        payload: Payload) -> HandlerResult:
    payload["step"] = "menu"
    await ctx.services.conversations.update(ctx.session, pending, payload)
    return menu(ctx, payload)


async def _field_answer(ctx: Context, pending: PendingConversation, payload: Payload,
                        field: str, text: str) -> HandlerResult:
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
    directory = directory_of(ctx)
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


async def _until_answer(ctx: Context, pending: PendingConversation, payload: Payload,
                        text: str) -> HandlerResult:
    try:
        until = fields.availability_until(text, directory_of(ctx).today())
    except fields.InvalidValue as problem:
        return Reply("⚠ " + escape(str(problem)) + "\n" + _(
            "Until when? Give the day you expect to open again, e.g. \"15/04\" or \"in two "
            "weeks\". (0 goes back to the menu.)"))
    value = fields.availability_value(payload.pop("kind", "closed"), until)
    return await _keep(ctx, pending, payload, fields.AVAILABILITY, value, None)


async def _keep(ctx: Context, pending: PendingConversation, payload: Payload, field: str,
                value: str, note: str | None) -> HandlerResult:
    """Remembers the value in the conversation (nothing is written before Confirm)."""
    values = dict(payload["values"])
    values[field] = value
    payload.update(values=values, step="menu")
    await ctx.services.conversations.update(ctx.session, pending, payload)
    done = "✓ " + _("{field}: {value}").format(
        field=fields.field_label(_stored(field)), value=escape(fields.value_text(field, value)))
    return menu(ctx, payload, done + (f" ({note})" if note else ""))


async def _summary(ctx: Context, pending: PendingConversation, payload: Payload) -> HandlerResult:
    entry = known_entry(ctx, payload["entry"])
    changed = {f: v for f, v in payload["values"].items() if v != current_value(entry, f)}
    if not changed:
        return menu(ctx, payload, _("You have not changed anything yet. Choose a field, or 9 to "
                                    "stop."))
    lines = [_("Please check your changes to {name}:").format(name=bold(display_name(entry)))]
    for field, value in changed.items():
        lines.append("• " + _("{field}: {old} → {new}").format(
            field=fields.field_label(_stored(field)),
            old=escape(fields.value_text(field, current_value(entry, field))),
            new=escape(fields.value_text(field, value))))
    if directory_of(ctx).changes.need_approval:
        lines.append(_("A coordinator approves them before they are shown to others."))
    lines.append(_("Confirm?"))
    payload["step"] = "confirm"
    await ctx.services.conversations.update(ctx.session, pending, payload)
    return Reply("\n".join(lines), confirm_choices())


async def _confirm_answer(ctx: Context, payload: Payload, text: str) -> HandlerResult:
    answer = preview_answer(text)
    if answer is None:
        return Reply(_("Please answer 1 to confirm or 2 to cancel."), confirm_choices())
    if not answer:
        return await _finish(ctx, payload, [_("Cancelled; your entry was not changed.")])
    directory = directory_of(ctx)
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
    name = display_name(outcome.record) if outcome.record else entry_id
    return await _finish(ctx, payload, [done.format(n=len(outcome.changes), name=bold(name))])


async def _finish(ctx: Context, payload: Payload,
                  replies: list[str | Reply]) -> list[str | Reply]:
    """Ends the editor; re-verification questions that were open come back."""
    conversations = ctx.services.conversations
    await conversations.end(ctx.session, ctx.chat_key, ctx.user.id)
    index = directory_of(ctx).index
    after = [e for e in payload.get("after", []) if index.get(e) is not None]
    if after:
        await conversations.start(ctx.session, ctx.chat_key, ctx.user.id, VERIFY_KIND,
                                  {"entries": after}, ttl=timedelta(days=14))
        replies.append(question(known_entry(ctx, after[0]), ctx.prefix))
    return replies


def index_update(ctx: Context, outcome: Outcome) -> Callable[[], Awaitable[None]]:
    """After the commit: swap the entry in the search index, or rebuild it when a field the
    search reads (languages, description) changed."""
    directory = directory_of(ctx)
    services = ctx.services

    async def update() -> None:
        if outcome.searched:
            async with services.db.session() as session:
                await directory.refresh(session)
        elif outcome.record is not None:
            directory.index.replace(outcome.record)
    return update


