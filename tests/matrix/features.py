"""A tiny test-only feature: a numbered-choice conversation, a file export and a file receiver.
It lives in the tests so that the transport is exercised without depending on product features."""
from __future__ import annotations

from bot.messages import Attachment, Choice, Reply
from bot.router import Command, ConversationStep, Feature

COLOURS = [Choice("Red", "red"), Choice("Blue", "blue"), Choice("Green", "green")]
CSV = "name,city\nCPAS Liège,Liège\nOCMW Gent,Gent\n".encode()
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082")


async def pick(ctx):
    await ctx.services.conversations.start(ctx.session, ctx.chat_key, ctx.user.id, "pick", {})
    return Reply("Which colour?", choices=COLOURS)


async def picked(ctx, pending):
    text = ctx.message.text.strip().lower()
    for number, choice in enumerate(COLOURS, 1):
        if text in {str(number), choice.value, choice.label.lower()}:
            await ctx.services.conversations.end(ctx.session, ctx.chat_key, ctx.user.id)
            return f"You chose **{choice.label}**."
    return Reply("Please pick one of the options.", choices=COLOURS)


async def export(ctx):
    if ctx.args == "png":
        return Reply("Your chart.", attachment=Attachment("chart.png", PNG, "image/png"))
    return Reply("Your export is attached.",
                 attachment=Attachment("contacts.csv", CSV, "text/csv"))


async def receive_file(ctx):
    attachment = ctx.message.attachment
    if attachment is None:
        return f"echo: {ctx.message.text}"
    return (f"Received {attachment.filename}: {len(attachment.content)} bytes, "
            f"{attachment.mime_type}, first line {attachment.content.splitlines()[0].decode()}")


async def upload(ctx):
    attachment = ctx.message.attachment
    if attachment is None:
        return "upload: send a file with this command as its caption"
    return f"Imported {attachment.filename} ({len(attachment.content)} bytes)"


TEST_FEATURE = Feature(
    name="matrix-test",
    commands=[Command("pick", pick, "pick a colour", policy="help"),
              Command("sendfile", export, "send a file", policy="help"),
              Command("upload", upload, "import a file", policy="help")],
    conversations=[ConversationStep("pick", picked)],
    text_handler=receive_file,
)
