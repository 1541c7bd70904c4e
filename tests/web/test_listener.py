"""The listener as `coordbot run` starts it: off unless configured, on loopback by default,
a clear one-line error when its port is taken, and no token or link in the log."""
from __future__ import annotations

import io
import logging
import socket

import aiohttp
import pytest

from bot.cli import StartupError, start_web, stop_web
from bot.config import ConfigError, load_settings
from tests.web.conftest import link_for, sign_in


def test_off_unless_configured_and_loopback_by_default():
    assert not load_settings(environ={}).web_enabled
    only_url = load_settings(environ={"COORDBOT_WEB_BASE_URL": "https://dash.example.org/"})
    assert only_url.web_enabled and only_url.effective_web_listen == "127.0.0.1:8080"
    assert only_url.effective_web_base_url == "https://dash.example.org"
    only_listen = load_settings(environ={"COORDBOT_WEB_LISTEN": "127.0.0.1:9000"})
    assert only_listen.effective_web_base_url == "http://127.0.0.1:9000"
    with pytest.raises(ConfigError, match="COORDBOT_WEB_LISTEN"):
        load_settings(environ={"COORDBOT_WEB_LISTEN": "127.0.0.1:99999"})
    with pytest.raises(ConfigError, match="COORDBOT_WEB_BASE_URL"):
        load_settings(environ={"COORDBOT_WEB_BASE_URL": "dash.example.org"})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _App:
    def __init__(self, services):
        self.services = services


async def test_start_web_serves_and_a_taken_port_is_one_line(web_bot):
    settings = web_bot.services.settings
    off = _Services(web_bot.services, web_listen="", web_base_url="")
    assert await start_web(_App(off)) is None
    port = free_port()
    settings.web_listen = f"127.0.0.1:{port}"
    runner = await start_web(_App(web_bot.services))
    try:
        async with aiohttp.ClientSession() as client:
            async with client.get(f"http://127.0.0.1:{port}/static/app.css") as response:
                assert response.status == 200
                assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        with pytest.raises(StartupError, match=f"cannot listen on 127.0.0.1:{port}"):
            await start_web(_App(web_bot.services))
    finally:
        await stop_web(runner)


class _Services:
    """The same services with other web settings."""

    def __init__(self, services, **settings):
        from dataclasses import replace
        self.__dict__.update(services.__dict__)
        self.settings = replace(services.settings, **settings)


async def test_no_link_or_token_in_the_log(web_bot):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("coordbot")
    logger.addHandler(handler)
    old = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        token = await link_for(web_bot, "alice")
        await web_bot.client.post("/login", data={"token": token})
        feed = (await web_bot.ask("/feed new tool", as_="alice")).split()
        secret = next(word for word in feed if len(word) == 64)
        await web_bot.client.get(f"/feed/directory.csv?token={secret}")
        await sign_in(web_bot, "alice")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)
    logged = stream.getvalue()
    assert "dashboard sign-in" in logged          # the capture works
    assert token not in logged and secret not in logged
