"""Fixtures for end-to-end Telegram tests: our own Bot API server on 127.0.0.1, the real
application (router, policy, database) and the transport talking to the server through
python-telegram-bot's own HTTP client."""
from __future__ import annotations

import os

import pytest

from bot.conversations import confirmation_answer
from bot.handlers import FEATURES
from bot.messages import Attachment, Choice, Reply
from bot.router import Command, ConversationStep, Feature, Router
from bot.transports.registry import telegram_transport
from tests.harness import make_bot
from tests.telegram.fake_bot_api import TOKEN, FakeBotApi

os.environ["NO_PROXY"] = "127.0.0.1,localhost"

ADMIN = 1001   # a private chat id is the user's id on Telegram


# A tiny test-only feature: a confirmation step, a file in, files out, long and marked-up text.
async def ask_confirmation(ctx):
    await ctx.services.conversations.start(ctx.session, ctx.chat_key, ctx.user.id,
                                           "test.confirm", {"what": ctx.args})
    return Reply(f"Confirm **{ctx.args}**?", [Choice("Yes", "yes"), Choice("No", "no")])


async def confirm_step(ctx, pending):
    answer = confirmation_answer(ctx.message.text)
    if answer is None:
        return Reply("Please answer yes or no.", [Choice("Yes", "yes"), Choice("No", "no")])
    await ctx.services.conversations.end(ctx.session, ctx.chat_key, ctx.user.id)
    return f"Confirmed {pending.payload['what']}." if answer else "Cancelled."


async def describe_file(ctx):
    attachment = ctx.message.attachment
    if attachment is None:
        return "No file."
    lines = attachment.content.decode("utf-8").splitlines()
    return f"Got {attachment.filename} ({attachment.mime_type}): {len(lines)} lines, " \
           f"first {lines[0]}"


async def export_file(ctx):
    return Reply("Here is the **export**.",
                 attachment=Attachment("export.csv", b"name;city\nCPAS;Liege\n", "text/csv"))


async def export_calendar(ctx):
    return Reply("", attachment=Attachment("meeting.ics", b"BEGIN:VCALENDAR\nEND:VCALENDAR\n",
                                           "text/calendar"))


async def chart(ctx):
    return Reply("Chart", attachment=Attachment("chart.png", b"\x89PNG\r\n\x1a\nfake",
                                                "image/png"))


async def long_text(ctx):
    return "\n".join(f"Line {n}: " + "all work and no play " * 5 for n in range(200))


async def echo(ctx):
    return f"**You said:** {ctx.args}"


TEST_FEATURE = Feature(name="telegram-test", commands=[
    Command("tconfirm", ask_confirmation, "test: confirm something", policy="help"),
    Command("timport", describe_file, "test: describe a file", policy="help"),
    Command("texport", export_file, "test: a CSV out", policy="help"),
    Command("tics", export_calendar, "test: an .ics out", policy="help"),
    Command("tchart", chart, "test: a chart out", policy="help"),
    Command("tlong", long_text, "test: a long answer", policy="help"),
    Command("techo", echo, "test: echo", policy="help"),
], conversations=[ConversationStep("test.confirm", confirm_step)])


@pytest.fixture
async def fake():
    server = FakeBotApi()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def app(tmp_path, database_url):
    harness = await make_bot(tmp_path, database_url, admins=[f"telegram:{ADMIN}"],
                             telegram_token=TOKEN)
    harness.services.router = Router([*FEATURES, TEST_FEATURE])
    yield harness
    await harness.close()


async def start_telegram(app, fake, received: list | None = None, **options):
    """Starts a Telegram transport on `app` against `fake`, as `coordbot run` does."""
    app.services.settings.telegram_api_url = fake.url
    options.setdefault("poll_timeout", 2)
    transport = telegram_transport(app.services.settings, app.services, **options)
    receiver = app.app.receiver_for(transport)

    async def receive(message):
        if received is not None:
            received.append(message)
        await receiver(message)

    app.services.transports.add(transport)
    await transport.start(receive)
    return transport


@pytest.fixture
async def telegram(app, fake):
    transport = await start_telegram(app, fake)
    yield transport
    await transport.stop()
