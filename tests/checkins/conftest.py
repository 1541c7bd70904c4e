"""Helpers for check-in tests: a transport that records what the outbox delivers, and a way
to register focal points through the chat itself."""
from __future__ import annotations

import pytest

from tests.harness import RecordingTransport, make_bot


async def deliver(bot) -> None:
    await bot.services.outbox.deliver_pending()


async def register(bot, names: list[str], role: str = "focal_point",
                   languages: dict[str, str] | None = None) -> None:
    for name in names:
        await bot.say("/start", as_=name)
        answer = await bot.ask(f"/role {name} {role}", as_="alice")
        assert role.replace("_", " ") in answer
        if languages and name in languages:
            await bot.say(f"/lang {languages[name]}", as_=name)


@pytest.fixture
async def checkin_bot(tmp_path, database_url):
    bot = await make_bot(tmp_path, database_url, admins=["console:alice"])
    bot.transport = RecordingTransport()
    bot.services.transports.add(bot.transport)
    yield bot
    await bot.close()
