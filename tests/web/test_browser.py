"""The dashboard in a real browser: headless Chromium from Debian's packages driven by
Selenium through Debian's chromedriver (nothing downloaded), against the real application on
127.0.0.1. Screenshots of every page are saved under the test's temporary folder
(`screenshots/`). Skipped where chromium or selenium is missing; CI installs both."""
from __future__ import annotations

import asyncio
import re
import shutil
import socket
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.web.app import Dashboard
from tests.checkins.conftest import register
from tests.harness import RecordingTransport, make_bot
from tests.web.conftest import monthly_round

selenium = pytest.importorskip("selenium")
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

CHROMIUM, DRIVER = shutil.which("chromium"), "/usr/bin/chromedriver"
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM or not Path(DRIVER).exists(),
                                 reason="apt-get install chromium chromium-driver")]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def chromium() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=412,915", "--lang=en"):   # a phone-sized window
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service(executable_path=DRIVER))


class Browser:
    """Selenium is blocking and the server runs in this event loop: every call goes to a
    thread, so the server keeps answering."""

    def __init__(self, driver, shots: Path):
        self.driver, self.shots = driver, shots

    async def open(self, url: str) -> str:
        await asyncio.to_thread(self.driver.get, url)
        return await asyncio.to_thread(lambda: self.driver.page_source)

    async def click(self, selector: str) -> str:
        element = await asyncio.to_thread(self.driver.find_element, By.CSS_SELECTOR, selector)
        await asyncio.to_thread(element.click)
        await asyncio.sleep(0.3)
        return await asyncio.to_thread(lambda: self.driver.page_source)

    async def shot(self, name: str) -> None:
        await asyncio.to_thread(self.driver.save_screenshot, str(self.shots / f"{name}.png"))

    async def text(self) -> str:
        body = await asyncio.to_thread(self.driver.find_element, By.TAG_NAME, "body")
        return await asyncio.to_thread(lambda: body.text)


@pytest.fixture
async def browser_bot(tmp_path, database_url):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    bot = await make_bot(tmp_path, database_url, admins=["console:alice"], web_base_url=base)
    bot.transport = RecordingTransport()
    bot.services.transports.add(bot.transport)
    server = TestServer(Dashboard(bot.services).application(), host="127.0.0.1", port=port)
    await server.start_server()
    driver = await asyncio.to_thread(chromium)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    bot.base, bot.browser = base, Browser(driver, shots)
    yield bot
    await asyncio.to_thread(driver.quit)
    await server.close()
    await bot.close()


async def link(bot, name: str) -> str:
    return re.search(r"http://127\.0\.0\.1:\d+/login/[0-9a-f]{64}",
                     await bot.ask("/dashboard", as_=name)).group(0)


async def test_the_dashboard_in_chromium(browser_bot, tmp_path):
    bot, browser = browser_bot, browser_bot.browser
    await monthly_round(bot, {"olga": ("1", 1000), "piet": ("2", 2500),
                              "quentin": ("3", 800)}, silent=["rita"])
    results = (await bot.say("/results monthly_regional", as_="alice"))[0].plain()
    assert "Responses: 3 of 4 (75%)" in results

    await browser.open(await link(bot, "alice"))
    await browser.shot("0-sign-in")
    await browser.click("form[action='/login'] button")
    assert "Dashboard" in await browser.text()
    await browser.shot("1-home")

    await browser.open(f"{bot.base}/rounds")
    assert "3/4" in await browser.text()
    await browser.shot("2-rounds")
    await browser.open(f"{bot.base}/rounds/monthly_regional/1")
    page = await browser.text()
    assert "3 / 4" in page and "75 %" in page and "rita" in page and "4300" in page
    for label in ("Brussels-Capital", "Flanders", "Wallonia"):
        assert label in page and label in results
    # The script ran without a Content-Security-Policy violation.
    logs = await asyncio.to_thread(browser.driver.get_log, "browser")
    assert not [entry for entry in logs if "Content Security Policy" in entry["message"]]
    await browser.shot("3-round")
    await browser.open(f"{bot.base}/directory")
    await browser.shot("4-directory")
    await browser.open(f"{bot.base}/reminders")
    await browser.shot("5-reminders")

    # A page on another origin posting to /logout: refused, still signed in.
    attacker = web.Application()
    attacker.router.add_get("/", lambda request: web.Response(content_type="text/html", text=(
        f'<form id="f" method="post" action="{bot.base}/logout"><input name="csrf" value="x">'
        '<button>go</button></form>')))
    evil = TestServer(attacker, host="127.0.0.1", port=free_port())
    await evil.start_server()
    try:
        await browser.open(str(evil.make_url("/")))
        await browser.click("#f button")
        assert "sent from another site" in await browser.text()
        await browser.shot("6-csrf-refused")
    finally:
        await evil.close()
    await browser.open(f"{bot.base}/rounds")
    assert "3/4" in await browser.text()

    await browser.click("form.logout button")
    assert "signed out" in await browser.text()
    await browser.shot("7-signed-out")
    await browser.open(f"{bot.base}/rounds")
    assert "/dashboard" in await browser.text()

    expired = await link(bot, "alice")
    bot.clock.advance(timedelta(minutes=11))
    await browser.open(expired)
    await browser.click("form[action='/login'] button")
    assert "expired or was already used" in await browser.text()
    await browser.shot("8-expired-link")

    await register(bot, ["sam"], role="staff")
    assert "not available to you" in await bot.ask("/dashboard", as_="sam")
    assert len(list((tmp_path / "screenshots").glob("*.png"))) == 9
