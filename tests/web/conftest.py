"""Dashboard tests: the real router and database, and the real aiohttp application served on
127.0.0.1 by aiohttp's test server, driven by its HTTP client."""
from __future__ import annotations

import re

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.web.app import Dashboard
from tests.checkins.conftest import deliver, register
from tests.harness import RecordingTransport, make_bot

LINK = re.compile(r"http://127\.0\.0\.1:8080/login/([0-9a-f]{64})")


@pytest.fixture
async def web_bot(tmp_path, database_url):
    bot = await make_bot(tmp_path, database_url, admins=["console:alice"],
                         web_base_url="http://127.0.0.1:8080", web_feed_requests_per_minute=5)
    bot.transport = RecordingTransport()
    bot.services.transports.add(bot.transport)
    bot.dashboard = Dashboard(bot.services)
    bot.client = TestClient(TestServer(bot.dashboard.application(), host="127.0.0.1"))
    await bot.client.start_server()
    yield bot
    await bot.client.close()
    await bot.close()


async def link_for(bot, name: str, **kwargs) -> str:
    answer = await bot.ask("/dashboard", as_=name, **kwargs)
    found = LINK.search(answer)
    assert found, answer
    return found.group(1)


async def sign_in(bot, name: str, client=None):
    """Asks for a link in the chat, opens it, presses the button; returns the final response."""
    client = client or bot.client
    token = await link_for(bot, name)
    page = await client.get(f"/login/{token}")
    assert page.status == 200 and token in await page.text()
    return await client.post("/login", data={"token": token})


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', html).group(1)


async def monthly_round(bot, answers: dict[str, tuple[str, int]], silent: list[str]) -> None:
    """A monthly_regional round where each name in `answers` gives (region, residents)."""
    await register(bot, [*answers, *silent])
    await bot.say("/rounds open monthly_regional; 2026-03-06 17:00; role:focal_point",
                  as_="alice", chat="coord")
    await bot.ask("1", as_="alice", chat="coord")
    await deliver(bot)
    for name, (region, residents) in answers.items():
        for text in [region, "2026-03-01", str(residents), "10", "5", "/skip", "1", "ok"]:
            await bot.say(text, as_=name)
        assert "recorded" in await bot.ask("1", as_=name)
