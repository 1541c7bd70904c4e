"""Chat side of the web dashboard: `/dashboard` gives a single-use login link in a direct
chat, `/dashboard logout` ends every session of the sender; admins manage the data feed's
consumer tokens with `/feed`. The rules live in bot/web/access.py."""
from __future__ import annotations

from bot.i18n import N_, _
from bot.markup import bold, escape
from bot.router import Command, Context, Feature, HandlerResult
from bot.web.access import LINK_MINUTES, FeedNameError, FeedNameTaken


def _base(ctx: Context) -> str | None:
    settings = ctx.services.settings
    return settings.effective_web_base_url if settings.web_enabled else None


def _not_enabled() -> str:
    return _("The web dashboard is not enabled on this server (COORDBOT_WEB_LISTEN or "
             "COORDBOT_WEB_BASE_URL, see docs/dashboard.md).")


async def dashboard(ctx: Context) -> HandlerResult:
    action = ctx.args.strip().lower()
    if action == "logout":
        return await _logout(ctx)
    if action:
        return ctx.usage()
    base = _base(ctx)
    if base is None:
        return _not_enabled()
    if not ctx.message.is_direct:
        return _("Ask me for a dashboard link in a direct chat: a link is a key to your "
                 "account.")
    secret = await ctx.services.web.new_link(ctx.session, ctx.user.id)
    return "\n".join([
        _("Your dashboard link (valid {minutes} minutes, works once, do not forward it):")
        .format(minutes=LINK_MINUTES),
        f"{base}/login/{secret}",
        _("To end every dashboard session: {prefix}dashboard logout").format(prefix=ctx.prefix)])


async def _logout(ctx: Context) -> HandlerResult:
    ended = await ctx.services.web.end_sessions(ctx.session, ctx.user.id)
    return _("Dashboard sessions ended: {count}.").format(count=ended)


async def feed(ctx: Context) -> HandlerResult:
    words = ctx.args.split()
    if not words:
        return await _list_feeds(ctx)
    if len(words) != 2 or words[0].lower() not in {"new", "revoke"}:
        return ctx.usage()
    if words[0].lower() == "new":
        return await _new_feed(ctx, words[1])
    return await _revoke_feed(ctx, words[1])


async def _list_feeds(ctx: Context) -> HandlerResult:
    feeds = await ctx.services.web.feeds(ctx.session)
    if not feeds:
        return [_("No feed tokens yet."), ctx.usage()]
    return "\n".join([_("Feed tokens in use:")] + [f"• `{escape(row.name)}`" for row in feeds])


async def _new_feed(ctx: Context, name: str) -> HandlerResult:
    try:
        secret = await ctx.services.web.new_feed(ctx.session, name, ctx.user.id)
    except FeedNameError:
        return [_("A feed name is 1 to 60 letters, digits, dots, dashes or underscores."),
                ctx.usage()]
    except FeedNameTaken:
        return _("A feed token named {name} exists already; revoke it first.").format(
            name=bold(escape(name)))
    base = _base(ctx) or "https://…"
    return "\n".join([
        _("Feed token for {name} (shown once; keep it secret):").format(name=bold(name)),
        f"`{secret}`",
        _("Directory: {url}").format(url=f"{base}/feed/directory.csv?token={secret}"),
        _("Rounds of a form: {url}").format(url=f"{base}/feed/rounds/FORM.csv?token={secret}"),
        _("Revoke it with {prefix}feed revoke {name}.").format(prefix=ctx.prefix, name=name)])


async def _revoke_feed(ctx: Context, name: str) -> HandlerResult:
    if not await ctx.services.web.revoke_feed(ctx.session, name, ctx.user.id):
        return _("No feed token named {name} is in use.").format(name=bold(escape(name[:60])))
    return _("Feed token {name} is revoked.").format(name=bold(escape(name)))


FEATURE = Feature(
    name="web",
    commands=[
        Command("dashboard", dashboard, N_("a link to the web dashboard, or end its sessions"),
                N_("/dashboard, /dashboard logout")),
        Command("feed", feed, N_("data feed tokens for analysts' tools"),
                N_("/feed, /feed new NAME, /feed revoke NAME")),
    ],
)
