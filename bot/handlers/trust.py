"""Trust commands: registration (/start CODE, /invite, /link), the audit log (/audit) and
privacy (/mydata, /forget)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.audience import AudienceError, find_organisation, organisation_name, split_role
from bot.conversations import PendingConversation, confirm_choices, preview_answer
from bot.handlers import audience as audiences
from bot.i18n import N_, _, ngettext, normalize_locale
from bot.markup import bold, escape
from bot.messages import Attachment, Reply
from bot.policy import Role
from bot.people import Identity, User
from bot.router import (Command, Context, ConversationStep, Feature, HandlerResult, UserError,
                        direct_only_refusal, role_label)
from bot.trust import audit
from bot.trust.invitations import LinkPreview, Outcome, Redemption
from bot.trust.models import AuditEntry, Invitation

FORGET = "trust.forget"
LINK_CONFIRM = "trust.link"
# A link waits this long for its confirmation; the code itself stays valid until it expires.
LINK_CONFIRM_TTL = timedelta(minutes=30)
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,99}")
AUDIT_DEFAULT, AUDIT_MAX = 20, 100


def code(text: str) -> str:
    return f"`{escape(text)}`"


async def welcome(ctx: Context) -> HandlerResult:
    return _("Hello! I help the services supporting people displaced from Ukraine find who "
             "handles what, where, and coordinate. Send {prefix}help to see what you can do, "
             "{prefix}lang to change the language.").format(prefix=ctx.prefix)


async def start(ctx: Context) -> HandlerResult:
    if not ctx.args:
        return await welcome(ctx)
    if not ctx.message.is_direct:  # a code is personal; the welcome is not
        raise UserError(direct_only_refusal(ctx, ctx.services.router.commands["start"]))
    identity = await _identity(ctx)
    result = await ctx.services.trust.invitations.redeem(ctx.session, identity, ctx.user,
                                                         ctx.args)
    if result.outcome is Outcome.THROTTLED:
        minutes = max(1, round((result.wait or timedelta()).total_seconds() / 60))
        return ngettext("Too many wrong codes. Please wait {minutes} minute before trying "
                        "again.", "Too many wrong codes. Please wait {minutes} minutes before "
                        "trying again.", minutes).format(minutes=minutes)
    if result.outcome is Outcome.LINK_ASKED and result.preview is not None:
        await ctx.services.conversations.start(
            ctx.session, ctx.chat_key, ctx.user.id, LINK_CONFIRM,
            {"invitation": result.preview.invitation_id, "identity": identity.id},
            ttl=LINK_CONFIRM_TTL)
        return Reply(_link_question(result.preview), confirm_choices())
    if result.outcome is not Outcome.REGISTERED or result.user is None \
            or result.invitation is None:
        return _link_result(ctx, result)
    language = await _inviters_language(ctx, result.invitation)
    if language is not None:
        with ctx.services.catalogues.use(language):
            return _registered(ctx, result.user)
    return _registered(ctx, result.user)


async def _inviters_language(ctx: Context, invitation: Invitation) -> str | None:
    """Someone whose first message is `/start CODE` has written no word of their language
    yet: they are welcomed in the language of the coordinator who invited them."""
    if ctx.user.locale or normalize_locale(ctx.message.language_hint):
        return None
    inviter = await ctx.services.trust.invitations.inviter(ctx.session, invitation)
    return ctx.services.router.first_words.adopt(ctx.user, inviter.locale if inviter else None)


def _registered(ctx: Context, user: User) -> str:
    lines = [_("Welcome! You are registered as {role} for {org}.").format(
        role=role_label(user.role), org=code(user.organisation_id or "-"))]
    if user.entry_id:
        lines.append(_("Your directory entry: {entry}.").format(entry=code(user.entry_id)))
    lines.append(_("Send {prefix}help to see what you can do.").format(prefix=ctx.prefix))
    return "\n".join(lines)


async def _identity(ctx: Context) -> Identity:
    """The sender's chat identity, which the router made before any handler runs."""
    identity = await ctx.services.people.identity(ctx.session, ctx.message.chat.platform,
                                                  ctx.message.sender_id)
    if identity is None:
        raise LookupError("the sender has no chat identity")
    return identity


def _link_result(ctx: Context, result: Redemption) -> str:
    """The answer to a link code, or to any code that did not register anyone."""
    if result.outcome is Outcome.LINK_REFUSED and result.preview is not None:
        preview = result.preview
        return "\n".join([_link_code_intro(preview), _(
            "I have linked nothing: this chat account has the role {own}, higher than that "
            "account's, and linking would hand it over to that account. If someone asked you "
            "to register with this code, it is their own link code; to let someone in, send "
            "them a code made with {prefix}invite.").format(
                own=role_label(preview.own_role), prefix=ctx.prefix)])
    if result.outcome is Outcome.ALREADY_LINKED:
        return _("This chat account is already linked to your account.")
    if result.outcome is Outcome.LINKED and result.user is not None:
        return _("This chat account is now linked to your account {name}. Send {prefix}whoami "
                 "to check.").format(name=bold(result.user.display_name), prefix=ctx.prefix)
    return _("This code is not valid: it may be mistyped, expired or already used. Ask "
             "your coordinator for a new one.")


def _link_code_intro(preview: LinkPreview) -> str:
    target = preview.target
    return " ".join([bold(_("This is a link code, not an invitation.")), _(
        "{name} ({role}, organisation {org}) made it to use their own account from another "
        "chat app.").format(name=bold(target.display_name), role=role_label(target.role),
                            org=code(target.organisation_id or "-"))])


def _link_question(preview: LinkPreview) -> str:
    name = bold(preview.target.display_name)
    lines = [_link_code_intro(preview), _(
        "If you confirm, this chat account joins the account of {name}: from then on you act "
        "here as {name}, with the role {role}.").format(
            name=name, role=role_label(preview.target.role))]
    if preview.registered:
        lines.append(_ending_registration(preview))
    elif preview.merges:
        lines.append(_("Your current account ends."))
    else:
        lines.append(_("Your other chat accounts stay in your current account."))
    if preview.moves:
        items = ", ".join(_moved_item(kind, count) for kind, count in preview.moves.items())
        lines.append(_("These move into the account of {name}: {items}.").format(
            name=name, items=items))
    elif preview.merges:
        lines.append(_("You have no reminders, answers or other data of your own that would "
                       "move."))
    lines.append(_("Only confirm if the account of {name} is your own. Merge this chat "
                   "account into the account of {name}?").format(name=name))
    return "\n".join(lines)


def _ending_registration(preview: LinkPreview) -> str:
    values = dict(role=role_label(preview.own_role), org=code(preview.own_organisation or "-"))
    if preview.own_entry:
        return _("Your current account ends, with its role {role}, organisation {org} and "
                 "directory entry {entry}.").format(entry=code(preview.own_entry), **values)
    return _("Your current account ends, with its role {role} and organisation {org}.").format(
        **values)


def _moved_item(kind: str, count: int) -> str:
    plural = {
        "reminders.schedules": lambda n: ngettext(
            "{n} reminder or meeting you own", "{n} reminders or meetings you own", n),
        "reminders.answers": lambda n: ngettext(
            "{n} answer to a meeting or deadline", "{n} answers to meetings or deadlines", n),
        "reminders.broadcasts_sent": lambda n: ngettext(
            "{n} broadcast you sent", "{n} broadcasts you sent", n),
        "checkins.assignments": lambda n: ngettext(
            "{n} check-in you were asked", "{n} check-ins you were asked", n),
        "checkins.absences": lambda n: ngettext(
            "{n} declared absence", "{n} declared absences", n),
        "checkins.rounds_opened": lambda n: ngettext(
            "{n} check-in round you opened", "{n} check-in rounds you opened", n),
    }.get(kind)
    if plural is None:
        return ngettext("{n} other item ({kind})", "{n} other items ({kind})", count).format(
            n=count, kind=code(kind))
    return plural(count).format(n=count)


async def link_answer(ctx: Context, pending: PendingConversation) -> HandlerResult:
    answer = preview_answer(ctx.message.text)
    if answer is None:
        return Reply(_("Please answer 1 to link this chat account or 2 to leave it as it is."),
                     confirm_choices())
    await ctx.services.conversations.end(ctx.session, ctx.chat_key, ctx.user.id)
    if not answer:
        return _("Nothing was linked.")
    identity = await _identity(ctx)
    if identity.id != pending.payload.get("identity"):
        return _link_result(ctx, Redemption(Outcome.INVALID))
    result = await ctx.services.trust.invitations.confirm_link(
        ctx.session, identity, ctx.user, pending.payload.get("invitation"))
    return _link_result(ctx, result)


async def invite(ctx: Context) -> HandlerResult:
    role, role_text, rest = split_role(ctx.args)
    if not rest.strip():
        return ctx.usage()
    allowed_roles = ", ".join(role_label(r) for r in Role if Role.GUEST < r <= ctx.role)
    if role is None or role == Role.GUEST:
        return [_("Unknown role {role!r}. You can invite: {roles}.").format(
            role=escape(role_text[:20]), roles=allowed_roles), ctx.usage()]
    if role > ctx.role:
        return _("You cannot invite someone as {role}: that is above your own role. You can "
                 "invite: {roles}.").format(role=role_label(role), roles=allowed_roles)
    try:
        organisation, entry = find_organisation(ctx.services.directory, rest.strip())
    except AudienceError as problem:
        if not problem.readings and len(rest.split()) == 1:
            return [_("{value!r} is not a valid organisation or entry id (letters, digits, "
                      "-_.: only).").format(value=escape(rest.strip()[:40])), ctx.usage()]
        return await audiences.ask_back(ctx, problem, lambda new: f"{role_text} {new}")
    for value in (organisation, entry):
        if value is not None and not _ID.fullmatch(value):
            return [_("{value!r} is not a valid organisation or entry id (letters, digits, "
                      "-_.: only).").format(value=escape(value[:40])), ctx.usage()]
    issued = await ctx.services.trust.invitations.create(
        ctx.session, created_by=ctx.user.id, role=role, organisation_id=organisation,
        entry_id=entry)
    name = organisation_name(ctx.services.directory, organisation)
    lines = [_("Invitation for a {role} of {org}:").format(
        role=role_label(role),
        org=f"{escape(name)} ({code(organisation)})" if name else code(organisation)),
             _("Code: {code} (single use, valid until {until}).").format(
                 code=code(issued.code), until=_local(ctx, issued.invitation.expires_at)),
             _("The person sends {telegram} to me on Telegram or the console, or {matrix} on "
               "Matrix.").format(telegram=code(f"/start {issued.code}"),
                                 matrix=code(f"!start {issued.code}"))]
    link = _deep_link(ctx, issued.code)
    if link:
        lines.append(_("Telegram link: {link}").format(link=link))
    lines.append(_("Share the code privately: whoever sends it first gets the role."))
    return "\n".join(lines)


async def link(ctx: Context) -> HandlerResult:
    issued = await ctx.services.trust.invitations.create_link(ctx.session, ctx.user)
    lines = [_("Your link code: {code}. It is not an invitation: keep it to yourself. Whoever "
               "uses it and confirms acts as you, with your role.").format(
                   code=code(issued.code)),
             _("To use your account from another chat app, send {telegram} to me there "
               "(Telegram or the console), or {matrix} on Matrix. The code works once, until "
               "{until}.").format(telegram=code(f"/start {issued.code}"),
                                  matrix=code(f"!start {issued.code}"),
                                  until=_local(ctx, issued.invitation.expires_at))]
    deep = _deep_link(ctx, issued.code)
    if deep:
        lines.append(_("Telegram link: {link}").format(link=deep))
    return "\n".join(lines)


def _deep_link(ctx: Context, code_text: str) -> str | None:
    username = ctx.services.settings.telegram_bot_username
    return f"https://t.me/{username}?start={code_text}" if username else None


def _local(ctx: Context, moment: datetime) -> str:
    try:
        zone = ZoneInfo(ctx.user.timezone)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    # Day first, as people in Belgium read dates.
    return moment.astimezone(zone).strftime("%d/%m/%Y %H:%M")


async def show_audit(ctx: Context) -> HandlerResult:
    text = ctx.args.strip()
    if text and not text.isdecimal():
        return ctx.usage()
    limit = min(int(text), AUDIT_MAX) if text else AUDIT_DEFAULT
    entries = await audit.latest(ctx.session, max(limit, 1))
    if not entries:
        return _("The audit log is empty.")
    lines = [ngettext("Latest {count} audit entry (newest first):",
                      "Latest {count} audit entries (newest first):", len(entries)).format(
        count=len(entries))]
    lines += [_audit_line(ctx, entry) for entry in entries]
    return "\n".join(lines)


def _audit_line(ctx: Context, entry: AuditEntry) -> str:
    details = ", ".join(f"{key}={value}" for key, value in (entry.details or {}).items()
                        if value is not None)
    actor = f"user:{entry.actor_user_id}" if entry.actor_user_id is not None else "-"
    line = f"• {_local(ctx, entry.at)} {code(actor)} {bold(entry.action)} {code(entry.target)}"
    return f"{line} {escape(details)}" if details else line


async def my_data(ctx: Context) -> HandlerResult:
    content = await ctx.services.trust.privacy.export_json(ctx.session, ctx.user)
    stamp = ctx.services.clock.now().strftime("%Y%m%d")
    return Reply(_("Here is everything I store about you, as a JSON file. Send {prefix}forget "
                   "to have it erased.").format(prefix=ctx.prefix),
                 attachment=Attachment(f"coordbot-my-data-{stamp}.json", content,
                                       "application/json"))


async def forget(ctx: Context) -> HandlerResult:
    await ctx.services.conversations.start_preview(ctx.session, ctx.chat_key, ctx.user.id,
                                                   FORGET, {}, requires=["forget"])
    return Reply(_("This erases your name, your chat accounts, your role and everything the "
                   "features store about you. It cannot be undone; anonymous totals are kept. "
                   "Send {prefix}mydata first if you want a copy. Erase everything?").format(
                       prefix=ctx.prefix), confirm_choices())


async def forget_answer(ctx: Context, pending: PendingConversation) -> HandlerResult:
    answer = preview_answer(ctx.message.text)
    if answer is None:
        return Reply(_("Please answer 1 to erase your data or 2 to keep it."), confirm_choices())
    await ctx.services.conversations.end(ctx.session, ctx.chat_key, ctx.user.id)
    if not answer:
        return _("Nothing was erased.")
    await ctx.services.trust.privacy.erase(ctx.session, ctx.user)
    return _("Done: I have erased your data. If you write to me again, I will treat you as a "
             "new person.")


FEATURE = Feature(
    name="trust",
    commands=[
        Command("start", start, N_("welcome; with a code, registers this chat account"),
                N_("/start [CODE]")),
        # Codes, the audit log and personal data are never shown in a group.
        Command("invite", invite, N_("create a one-time registration code"),
                N_("/invite ROLE ORG [ENTRY]"), direct_only=True),
        Command("link", link, N_("a code to use your account from another chat app"),
                N_("/link"), direct_only=True),
        Command("audit", show_audit, N_("latest entries of the audit log"), N_("/audit [N]"),
                direct_only=True),
        Command("mydata", my_data, N_("everything stored about you, as a file"), N_("/mydata"),
                direct_only=True),
        Command("forget", forget, N_("erase your personal data"), N_("/forget"),
                direct_only=True),
    ],
    conversations=[ConversationStep(FORGET, forget_answer, confirms=True),
                   ConversationStep(LINK_CONFIRM, link_answer, confirms=True)],
)
