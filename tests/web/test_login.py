"""Signing in from the chat: single-use links bound to a person, sessions, roles, CSRF."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.trust.models import AuditEntry
from bot.web.models import WebLoginLink, WebSession
from tests.checkins.conftest import register
from tests.web.conftest import csrf_of, link_for, sign_in


async def test_a_coordinator_signs_in_by_link_and_the_cookie_is_strict(web_bot):
    response = await sign_in(web_bot, "alice")
    assert response.status == 200 and str(response.url).endswith("/")
    cookie = response.history[0].headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Max-Age=28800" in cookie
    assert "Secure" not in cookie   # the base URL is http://
    page = await response.text()
    assert "/rounds" in page and "/directory" in page and "Log out" in page
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    async with web_bot.services.db.session() as session:
        stored = list(await session.scalars(select(WebLoginLink.token_hash)))
        actions = list(await session.scalars(select(AuditEntry.action)))
    assert len(stored[0]) == 64 and "web.link" in actions and "web.login" in actions


async def test_a_link_works_once_and_only_for_ten_minutes(web_bot):
    token = await link_for(web_bot, "alice")
    # Opening the link (a chat app's preview) does not spend it; pressing the button does.
    assert (await web_bot.client.get(f"/login/{token}")).status == 200
    assert (await web_bot.client.post("/login", data={"token": token})).status == 200
    reused = await web_bot.client.post("/login", data={"token": token})
    assert reused.status == 400 and "already used" in await reused.text()

    late = await link_for(web_bot, "alice")
    web_bot.clock.advance(timedelta(minutes=10, seconds=1))
    expired = await web_bot.client.post("/login", data={"token": late})
    assert expired.status == 400
    assert (await web_bot.client.post("/login", data={"token": "0" * 64})).status == 400


async def test_staff_get_no_link_and_a_demoted_coordinator_is_refused(web_bot):
    await register(web_bot, ["sam"], role="staff")
    assert "not available to you" in await web_bot.ask("/dashboard", as_="sam")
    await register(web_bot, ["cora"], role="coordinator")
    assert (await sign_in(web_bot, "cora")).status == 200
    await web_bot.say("/role cora staff", as_="alice")
    refused = await web_bot.client.get("/rounds")
    assert refused.status == 403 and "not available to your role" in await refused.text()


async def test_links_only_in_a_direct_chat_and_not_when_the_dashboard_is_off(web_bot):
    answer = await web_bot.ask("/dashboard", as_="alice", chat="group", direct=False)
    assert "direct chat" in answer and "/login/" not in answer
    web_bot.services.settings.web_base_url = ""
    assert "not enabled" in await web_bot.ask("/dashboard", as_="alice")


async def test_pages_need_a_session(web_bot):
    for path in ["/", "/rounds", "/directory", "/reminders", "/rounds/weekly_local/1/export.csv"]:
        response = await web_bot.client.get(path, allow_redirects=False)
        assert response.status == 401, path
        assert "/dashboard" in await response.text()


async def test_logout_needs_the_csrf_token_and_chat_logout_ends_every_session(web_bot):
    home = await (await sign_in(web_bot, "alice")).text()
    forged = await web_bot.client.post("/logout", data={"csrf": "0" * 64})
    assert forged.status == 403
    cross = await web_bot.client.post("/logout", data={"csrf": csrf_of(home)},
                                      headers={"Origin": "https://evil.example"})
    assert cross.status == 403
    assert (await web_bot.client.get("/rounds")).status == 200   # still signed in

    assert "sessions ended: 1" in await web_bot.ask("/dashboard logout", as_="alice")
    assert (await web_bot.client.get("/rounds")).status == 401
    async with web_bot.services.db.session() as session:
        assert all(s.ended_at for s in await session.scalars(select(WebSession)))


async def test_the_logout_button_signs_out(web_bot):
    home = await (await sign_in(web_bot, "alice")).text()
    out = await web_bot.client.post("/logout", data={"csrf": csrf_of(home)},
                                    headers={"Origin": "http://127.0.0.1:8080"})
    assert out.status == 200 and "signed out" in await out.text()
    assert (await web_bot.client.get("/rounds")).status == 401


async def test_a_session_ends_after_eight_idle_hours(web_bot):
    await sign_in(web_bot, "alice")
    web_bot.clock.advance(timedelta(hours=7))
    assert (await web_bot.client.get("/directory")).status == 200   # moves the limit on
    web_bot.clock.advance(timedelta(hours=7))
    assert (await web_bot.client.get("/directory")).status == 200
    web_bot.clock.advance(timedelta(hours=8, seconds=1))
    assert (await web_bot.client.get("/directory")).status == 401


async def test_login_from_another_site_is_refused(web_bot):
    token = await link_for(web_bot, "alice")
    refused = await web_bot.client.post("/login", data={"token": token},
                                        headers={"Origin": "https://evil.example"})
    assert refused.status == 403
    assert (await web_bot.client.post("/login", data={"token": token})).status == 200


async def test_pages_follow_the_persons_language(web_bot):
    await web_bot.say("/lang nl", as_="alice")
    button = await (await web_bot.client.get(f"/login/{await link_for(web_bot, 'alice')}")).text()
    assert "Dashboard openen" in button
    await web_bot.say("/lang fr", as_="alice")
    page = await (await sign_in(web_bot, "alice")).text()
    assert 'lang="fr"' in page and "Se déconnecter" in page


async def test_forget_ends_every_session_and_mydata_lists_them(web_bot):
    await register(web_bot, ["cora"], role="coordinator")
    await sign_in(web_bot, "cora")
    mydata = (await web_bot.say("/mydata", as_="cora"))
    assert any(b"dashboard" in (r.attachment.content if r.attachment else b"") for r in mydata)
    await web_bot.say("/forget", as_="cora")
    await web_bot.say("1", as_="cora")
    assert (await web_bot.client.get("/rounds")).status == 401
    async with web_bot.services.db.session() as session:
        assert not list(await session.scalars(select(WebSession)))
