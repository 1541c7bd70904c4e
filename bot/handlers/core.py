"""Core commands: help, language, identity, roles. (/start lives in bot/handlers/trust.py.)"""
from __future__ import annotations

from bot.audience import parse_role, role_names
from bot.i18n import LANGUAGE_NAMES, LOCALES, N_, _
from bot.language import FAREWELL, GREETING, HELP, THANKS, small_talk
from bot.markup import bold, escape
from bot.policy import Role
from bot.router import (Command, Context, Feature, HandlerResult, role_label,
                        visible_commands)


ALL_WORDS = {"all", "tout", "tous", "toutes", "alles", "alle", "все", "усе"}


def _examples() -> dict[str, str]:
    # Translators: two questions a newcomer could ask the directory, in your language and
    # with the place names as your readers write them.
    return {"first": _("\"housing Liège\""),
            "second": _("\"who helps with the integration income in Ghent\"")}


def short_help(ctx: Context) -> str:
    """A guest's /help: what they can do now, with examples; the rest behind /help all."""
    ask = (_("ask who handles what, where: just write it, for example {first} or {second}")
           if ctx.message.is_direct else
           _("ask who handles what, where: {prefix}who followed by your question, for example "
             "{first}")).format(prefix=ctx.prefix, **_examples())
    others = [_("{prefix}lang fr, nl, de, en or uk: choose your language"),
              _("{prefix}start CODE: register with the code a coordinator gave you"),
              _("{prefix}help all: every command you can use")]
    lines = [_("What you can do now:"), f"• {ask}"]
    lines += [f"• {line.format(prefix=ctx.prefix)}" for line in others]
    return "\n".join(lines)


async def show_help(ctx: Context) -> HandlerResult:
    if ctx.role == Role.GUEST and ctx.args.strip().casefold() not in ALL_WORDS:
        return short_help(ctx)
    lines = [_("What you can do here ({role}):").format(role=role_label(ctx.role))]
    for command in visible_commands(ctx.services.router, ctx.role):
        usage = _(command.usage) if command.usage else f"/{command.name}"
        lines.append(f"• `{usage.replace('/', ctx.prefix, 1)}`: {_(command.summary)}")
    if ctx.message.is_direct and ctx.services.router.text_handler is not None:
        lines.append(_("You can also just write what you are looking for, e.g. "
                       "\"housing Liège\"."))
    return "\n".join(lines)


async def small_talk_reply(ctx: Context) -> HandlerResult:
    """"bonjour", "bedankt", "hilfe": a short welcome with two example questions, in the
    language the words were written in (the router has made it the person's language)."""
    kind, _lang = small_talk(ctx.message.text) or (GREETING, None)
    if kind == HELP:
        return await show_help(ctx)
    if kind in (THANKS, FAREWELL):
        text = _("You are welcome! Ask me again whenever you need to, for example {first} or "
                 "{second}. Send {prefix}help to see what else I can do.")
    else:
        text = _("Hello! I help the services supporting people displaced from Ukraine find who "
                 "handles what, where. Just write what you are looking for, for example {first} "
                 "or {second}. Send {prefix}help to see what else I can do.")
    return text.format(prefix=ctx.prefix, **_examples())


async def set_language(ctx: Context) -> HandlerResult:
    choice = ctx.args.strip().lower()
    if not choice:
        current = ctx.user.locale or _("not set")
        return _("Your language: {current}. Choose one of: {choices}.").format(
            current=current, choices=", ".join(LOCALES))
    if choice not in LOCALES:
        return [_("Unknown language {code!r}.").format(code=escape(choice[:10])), ctx.usage()]
    ctx.services.people.choose_locale(ctx.user, choice)
    ctx.services.router.first_words.chosen(ctx.user.id)
    with ctx.services.catalogues.use(choice):
        return _("Language set to {name}.").format(name=LANGUAGE_NAMES[choice])


async def who_am_i(ctx: Context) -> HandlerResult:
    user = ctx.user
    identities = ", ".join(identity.key for identity in await ctx.services.people.identities_of(
        ctx.session, user))
    return "\n".join([
        _("Name: {name}").format(name=bold(user.display_name)),
        _("Chat identities: {ids}").format(ids=identities),
        _("Role: {role}").format(role=role_label(user.role)),
        _("Organisation: {org}").format(org=user.organisation_id or _("none")),
        _("Language: {lang}").format(lang=LANGUAGE_NAMES.get(user.locale or "", _("not set"))),
        _("Time zone: {tz}").format(tz=user.timezone),
    ])


async def change_role(ctx: Context) -> HandlerResult:
    handle, _sep, role_name = ctx.args.strip().partition(" ")
    if not handle or not role_name.strip():
        return ctx.usage()
    role = parse_role(role_name)
    if role is None:
        return [_("Unknown role {role!r}. Roles: {roles}.").format(
            role=escape(role_name.strip()[:20]), roles=role_names()), ctx.usage()]
    target = await ctx.services.people.find(ctx.session, handle, ctx.message.chat.platform)
    if target is None:
        return _("I do not know {user}: they must write to me once first.").format(
            user=escape(handle[:80]))
    if target.id == ctx.user.id:
        return _("You cannot change your own role; ask another admin.")
    await ctx.services.trust.change_role(ctx.session, ctx.user, target, role)
    return _("{user} is now {role}.").format(user=bold(target.display_name),
                                            role=role_label(role))


FEATURE = Feature(
    name="core",
    commands=[
        Command("help", show_help, N_("what you can do here"), N_("/help [all]")),
        Command("lang", set_language, N_("set your language"), N_("/lang fr|nl|de|en|uk")),
        Command("whoami", who_am_i, N_("your identity, role and settings"), N_("/whoami")),
        Command("role", change_role, N_("give someone a role"), N_("/role USER ROLE")),
    ],
    small_talk_handler=small_talk_reply,
)
