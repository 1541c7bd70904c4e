"""The aiohttp application of the dashboard and the feed, and its listener.

Security (docs/dashboard.md, "Security"): a strict Content-Security-Policy and the usual
headers on every response; the session cookie is HttpOnly, SameSite=Strict, Secure (and
`__Host-` prefixed) when the base URL is https; every POST carries the session's CSRF token
and, when the browser sends one, an Origin equal to the base URL's; pages check the policy
table on every request; no access log (login links and feed tokens are in URLs)."""
from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from sqlalchemy.ext.asyncio import AsyncSession

from bot.checkins.models import CheckinForm, CheckinRound
from bot.i18n import N_, _, normalize_locale
from bot.people import User
from bot.policy import allowed
from bot.trust import audit
from bot.web import feeds, views
from bot.web.access import csrf_ok, csrf_token
from bot.web.models import FeedToken
from bot.web.figures import RoundFigures
from bot.web.html import h, page

if TYPE_CHECKING:
    from bot.services import Services

# A page's (title, body) for the signed-in person.
Render = Callable[[AsyncSession, User], Awaitable[tuple[str, str]]]
log = logging.getLogger("coordbot.web")
STATIC = Path(__file__).resolve().parent / "static"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY",
                    "Cross-Origin-Opener-Policy": "same-origin"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def security_headers(https: bool) -> Middleware:
    headers = dict(SECURITY_HEADERS)
    if https:
        headers["Strict-Transport-Security"] = "max-age=31536000"

    @web.middleware
    async def add_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            exc.headers.update(headers)
            raise
        response.headers.update(headers)
        return response

    return add_headers


class FeedLimiter:
    """At most `per_minute` requests per feed token and instance in any 60 seconds."""

    def __init__(self, per_minute: int,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.per_minute, self.now = per_minute, now
        self.seen: dict[int, deque[float]] = {}

    def allow(self, key: int) -> bool:
        now, window = self.now(), self.seen.setdefault(key, deque())
        while window and window[0] <= now - 60:
            window.popleft()
        if len(window) >= self.per_minute:
            return False
        window.append(now)
        return True


class Dashboard:
    def __init__(self, services: Services) -> None:
        self.services = services
        settings = services.settings
        self.base_url = settings.effective_web_base_url
        self.secure = urlsplit(self.base_url).scheme == "https"
        self.cookie = "__Host-coordbot" if self.secure else "coordbot_session"
        self.origin = "{0.scheme}://{0.netloc}".format(urlsplit(self.base_url))
        self.limiter = FeedLimiter(settings.web_feed_requests_per_minute)
        self._directory_feed: tuple[object, feeds.Body] | None = None
        self.figures = RoundFigures(services.checkins, services.directory)

    # ----- plumbing -----------------------------------------------------------------------

    def application(self) -> web.Application:
        app = web.Application(middlewares=[security_headers(self.secure)],
                              client_max_size=64 * 1024)
        app.add_routes([
            web.get("/", self.home), web.get("/login/{token}", self.login_form),
            web.post("/login", self.login), web.post("/logout", self.logout),
            web.get("/rounds", self.rounds), web.get("/rounds/{form}/{number:\\d+}", self.round),
            web.get("/rounds/{form}/{number:\\d+}/export.{kind:csv|xlsx}", self.export),
            web.get("/directory", self.directory), web.get("/reminders", self.reminders),
            web.get("/feed/directory.csv", self.feed_directory),
            web.get("/feed/rounds/{form}.csv", self.feed_rounds),
            web.get("/static/{name:app\\.(css|js)}", self.static),
        ])
        return app

    def _locale(self, user: User | None = None, request: web.Request | None = None) -> str:
        if user is not None and user.locale:
            return user.locale
        if request is not None:
            for part in request.headers.get("Accept-Language", "").split(","):
                code = normalize_locale(part.split(";")[0])
                if code:
                    return code
        return self.services.settings.default_locale

    def _html(self, text: str, status: int = 200) -> web.Response:
        return web.Response(text=text, status=status, content_type="text/html",
                            charset="utf-8", headers={"Cache-Control": "no-store"})

    def _message(self, request: web.Request, title: str, text: str, status: int,
                 user: User | None = None) -> web.Response:
        with self.services.catalogues.use(self._locale(user, request)):
            return self._html(page(_(title), f"<p>{h(_(text))}</p>"), status)

    def _nav(self, user: User) -> list[tuple[str, str]]:
        items = [("/", _("Dashboard")), ("/rounds", _("Rounds")),
                 ("/directory", _("Directory")), ("/reminders", _("Reminders"))]
        need = {"/rounds": "web.rounds", "/directory": "web.directory",
                "/reminders": "web.reminders"}
        return [(href, text) for href, text in items
                if href not in need or allowed(user.role, need[href])]

    async def _signed_in(self, request: web.Request, session: AsyncSession,
                         action: str) -> User | web.Response:
        """The person of this request's session, allowed `action`, or the refusal to send
        (returned, not raised: the session's idle limit moves forward either way)."""
        user = await self.services.web.user_of(session, request.cookies.get(self.cookie))
        if user is None:
            return self._message(
                request, N_("Please sign in"),
                N_("Send /dashboard to the bot in a direct chat to get a sign-in link."), 401)
        if not allowed(user.role, action):
            return self._message(request, N_("Not available"),
                                 N_("This page is not available to your role."), 403, user)
        return user

    async def _view(self, request: web.Request, action: str, render: Render) -> web.Response:
        async with self.services.db.transaction() as session:
            user = await self._signed_in(request, session, action)
            if not isinstance(user, User):
                return user
            with self.services.catalogues.use(self._locale(user)):
                title, body = await render(session, user)
                csrf = csrf_token(request.cookies[self.cookie])
                return self._html(page(title, body, nav=self._nav(user), csrf=csrf,
                                       user_name=user.display_name))

    def _same_origin(self, request: web.Request) -> bool:
        # Pages send `Referrer-Policy: same-origin`: with `no-referrer` browsers send
        # `Origin: null` on our own forms (found by the Chromium test).
        origin = request.headers.get("Origin")
        return origin is None or origin == self.origin

    # ----- sign-in ------------------------------------------------------------------------

    async def login_form(self, request: web.Request) -> web.Response:
        """Shows a button, and only the POST uses the link: chat apps fetch link previews,
        which must not spend it."""
        token = request.match_info["token"]
        async with self.services.db.session() as session:
            holder = await self.services.web.holder(session, token)
        with self.services.catalogues.use(self._locale(holder, request)):
            intro, button = _("This link signs you in to the coordbot dashboard once."), \
                _("Open the dashboard")
            body = (f"<p>{h(intro)}</p>"
                    '<form method="post" action="/login">'
                    f'<input type="hidden" name="token" value="{h(token[:100])}">'
                    f'<button type="submit">{h(button)}</button></form>')
            return self._html(page(_("Sign in"), body))

    async def login(self, request: web.Request) -> web.Response:
        if not self._same_origin(request):
            return self._message(request, N_("Refused"),
                                 N_("This form was sent from another site."), 403)
        form = await request.post()
        async with self.services.db.transaction() as session:
            opened = await self.services.web.redeem(session, str(form.get("token", "")))
            if opened is not None:
                await audit.record(session, opened.user.id, "web.login",
                                   audit.user_target(opened.user.id),
                                   at=self.services.clock.now())
        if opened is None:
            return self._message(
                request, N_("Link not valid"),
                N_("This link has expired or was already used. Send /dashboard to the bot "
                   "for a new one."), 400)
        response = web.HTTPSeeOther("/")
        response.set_cookie(self.cookie, opened.secret, path="/", httponly=True,
                            secure=self.secure, samesite="Strict",
                            max_age=self.services.settings.web_session_hours * 3600)
        log.info("dashboard sign-in", extra={"fields": {"user_id": opened.user.id}})
        raise response

    async def logout(self, request: web.Request) -> web.Response:
        secret = request.cookies.get(self.cookie, "")
        form = await request.post()
        if not secret or not self._same_origin(request) \
                or not csrf_ok(secret, str(form.get("csrf", ""))):
            return self._message(
                request, N_("Refused"),
                N_("This form is out of date or was sent from another site."), 403)
        async with self.services.db.transaction() as session:
            await self.services.web.end_session(session, secret)
        response = self._message(request, N_("Signed out"), N_("You are signed out."), 200)
        response.del_cookie(self.cookie, path="/")
        return response

    # ----- pages --------------------------------------------------------------------------

    async def home(self, request: web.Request) -> web.Response:
        async def render(session: AsyncSession, user: User) -> tuple[str, str]:
            links = "".join(f'<li><a href="{h(href)}">{h(text)}</a></li>'
                            for href, text in self._nav(user)[1:])
            return _("Dashboard"), f'<ul class="home">{links}</ul>'
        return await self._view(request, "dashboard", render)

    async def rounds(self, request: web.Request) -> web.Response:
        async def render(session: AsyncSession, user: User) -> tuple[str, str]:
            return _("Check-in rounds"), await views.rounds_list(self.services, session, user)
        return await self._view(request, "web.rounds", render)

    async def _round_of(self, session: AsyncSession,
                        request: web.Request) -> tuple[CheckinForm, CheckinRound]:
        svc = self.services.checkins
        row = await svc.form_row(session, request.match_info["form"][:100])
        if row is None:
            raise web.HTTPNotFound()
        round_ = await svc.round_by_number(session, row, int(request.match_info["number"][:9]))
        if round_ is None:
            raise web.HTTPNotFound()
        return row, round_

    async def round(self, request: web.Request) -> web.Response:
        async def render(session: AsyncSession, user: User) -> tuple[str, str]:
            row, round_ = await self._round_of(session, request)
            # Non-responders' names are personal data: the view is audited.
            await audit.record(session, user.id, "web.round_view", f"round:{round_.id}",
                               {"form": row.code, "number": round_.number},
                               at=self.services.clock.now())
            return await views.round_page(self.services, self.figures, session, user, row,
                                          round_)
        return await self._view(request, "web.rounds", render)

    async def directory(self, request: web.Request) -> web.Response:
        async def render(session: AsyncSession, user: User) -> tuple[str, str]:
            return _("Directory"), await views.directory_page(self.services, session, user)
        return await self._view(request, "web.directory", render)

    async def reminders(self, request: web.Request) -> web.Response:
        async def render(session: AsyncSession, user: User) -> tuple[str, str]:
            return (_("Meetings and deadlines"),
                    await views.reminders_page(self.services, session, user))
        return await self._view(request, "web.reminders", render)

    async def export(self, request: web.Request) -> web.Response:
        from bot.checkins import reports

        svc = self.services.checkins
        async with self.services.db.transaction() as session:
            user = await self._signed_in(request, session, "export")
            if not isinstance(user, User):
                return user
            row, round_ = await self._round_of(session, request)
            form, tz = svc.form_of(round_), svc.tz_of(user)
            rows = [] if round_.reduced_at else await svc.respondents(session, round_)
            header, tags, data = reports.response_table(form, round_.number, rows, tz)
            kind = request.match_info["kind"]
            await audit.record(session, user.id, "checkins.export", f"round:{round_.id}",
                               {"form": row.code, "number": round_.number, "rows": len(data),
                                "via": "web"}, at=self.services.clock.now())
            result = await self.figures.of(session, round_) if kind == "xlsx" else {}
        name = f"{row.code}-round{round_.number}.{kind}"
        if kind == "csv":
            body, media = reports.to_csv(header, tags, data), "text/csv"
        else:
            meta = {"form": row.code, "round": round_.number, "version": form.version,
                    "assigned": result["assigned"], "submitted": result["submitted"],
                    "late": result["late"]}
            body = await asyncio.to_thread(reports.to_xlsx, header, tags, data,
                                           reports.summary_table(form, result), meta)
            media = XLSX
        return web.Response(body=body, content_type=media, headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store"})

    async def static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        media = "text/css" if name.endswith(".css") else "text/javascript"
        return web.Response(body=(STATIC / name).read_bytes(), content_type=media,
                            headers={"Cache-Control": "max-age=3600"})

    # ----- the feed -----------------------------------------------------------------------

    async def _feed_consumer(self, request: web.Request, session: AsyncSession) -> FeedToken:
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else \
            request.query.get("token", "")
        row = await self.services.web.feed_of(session, token)
        if row is None:
            raise web.HTTPUnauthorized(text="a valid feed token is needed\n",
                                       headers={"WWW-Authenticate": "Bearer"})
        if not self.limiter.allow(row.id):
            raise web.HTTPTooManyRequests(text="too many requests for this token\n",
                                          headers={"Retry-After": "60"})
        return row

    async def feed_directory(self, request: web.Request) -> web.Response:
        async with self.services.db.session() as session:
            await self._feed_consumer(request, session)
            last = await self.services.directory.changes.recently_changed(session, limit=1)
        changed = last[0][1] if last else None
        index = self.services.directory.index
        if self._directory_feed is None or self._directory_feed[0] is not index:
            data = await asyncio.to_thread(feeds.directory_csv, list(index.entries))
            self._directory_feed = (index, feeds.Body.of(data))
        return _conditional(request, self._directory_feed[1], changed)

    async def feed_rounds(self, request: web.Request) -> web.Response:
        svc = self.services.checkins
        async with self.services.db.session() as session:
            await self._feed_consumer(request, session)
            row = await svc.form_row(session, request.match_info["form"][:100])
            if row is None:
                raise web.HTTPNotFound(text="no such form\n")
            history = await self.figures.history(session, row, limit=100)
        changed = max((r.closed_at or r.opens_at for r, _result in history), default=None)
        tz = svc.tz_of(None)
        data = feeds.rounds_csv(row.code, svc.form_of, history,
                                lambda r: r.deadline.astimezone(tz).isoformat(
                                    timespec="minutes"))
        return _conditional(request, feeds.Body.of(data), changed)


def _conditional(request: web.Request, body: feeds.Body,
                 changed: datetime | None) -> web.Response:
    """304 when the client's copy is current; else the CSV, gzipped when accepted."""
    headers = {"ETag": body.etag, "Cache-Control": "private, no-cache",
               "Vary": "Accept-Encoding, Authorization"}
    if changed is not None:
        headers["Last-Modified"] = feeds.http_date(changed)
    match = request.headers.get("If-None-Match")
    if match is not None:
        if body.etag in {tag.strip().removeprefix("W/") for tag in match.split(",")} \
                or match.strip() == "*":
            return web.Response(status=304, headers=headers)
    elif changed is not None and request.if_modified_since is not None \
            and changed.replace(microsecond=0) <= request.if_modified_since:
        return web.Response(status=304, headers=headers)
    if "gzip" in request.headers.get("Accept-Encoding", "").lower():
        headers["Content-Encoding"] = "gzip"
        return web.Response(body=body.gzipped, headers=headers,
                            content_type="text/csv", charset="utf-8")
    return web.Response(body=body.data, headers=headers, content_type="text/csv",
                        charset="utf-8")


async def start(services: Services) -> web.AppRunner:
    """Starts the listener on COORDBOT_WEB_LISTEN (127.0.0.1:8080 by default)."""
    host, _colon, port = services.settings.effective_web_listen.rpartition(":")
    runner = web.AppRunner(Dashboard(services).application(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host.strip("[]") or "127.0.0.1", int(port)).start()
    log.info("dashboard listening", extra={"fields": {"listen": f"{host}:{port}"}})
    return runner
