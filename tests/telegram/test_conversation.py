"""The bot in Telegram, end to end: users write to our Bot API server, python-telegram-bot's
HTTP client carries it to the transport, the real core answers."""
from __future__ import annotations

from tests.telegram.conftest import ADMIN, start_telegram
from tests.telegram.fake_bot_api import BOT_USERNAME

GROUP = -100777


async def core_answer(app, text: str, user: int, lang: str = "en",
                      username: str | None = None) -> str:
    """What the core answers the same person (the same name and username as the fake Telegram
    user: stored names follow each message), without Telegram in between."""
    message = app.message(text, as_=str(user), platform="telegram", lang=lang)
    message.sender_name, message.sender_username = f"User{user}", username
    return "\n".join(reply.plain() for reply in await app.app.handle(message))


async def test_private_questions_get_the_core_answers(app, fake, telegram):
    # An admin's full /help is longer than one Telegram message: it arrives in pieces.
    help_text = await core_answer(app, "/help", ADMIN)
    fake.send_text(ADMIN, "/help")
    await fake.wait_for(lambda: help_text.splitlines()[-1] in "\n".join(fake.texts_to(ADMIN)))
    shown = "\n".join(fake.texts_to(ADMIN))
    assert "/whoami" in shown and "/role" in shown
    pieces = len(fake.texts_to(ADMIN))

    fake.send_text(ADMIN, "housing Liège")
    replies = await fake.wait_for_sent(ADMIN, pieces + 1)
    assert replies[pieces].text == await core_answer(app, "housing Liège", ADMIN)

    fake.send_text(ADMIN, "/whoami")
    replies = await fake.wait_for_sent(ADMIN, pieces + 2)
    assert f"telegram:{ADMIN}" in replies[pieces + 1].text and "admin" in replies[pieces + 1].text


async def test_guest_language_hint_and_identity(app, fake, telegram):
    fake.send_text(2002, "/whoami", lang="fr", username="marie")
    [reply] = await fake.wait_for_sent(2002)
    assert "telegram:2002" in reply.text
    assert reply.text == await core_answer(app, "/whoami", 2002, "fr", username="marie")


async def test_html_is_escaped_and_markup_rendered(fake, telegram):
    fake.send_text(ADMIN, "/techo a<b>&c </i> **x**")
    [reply] = await fake.wait_for_sent(ADMIN)
    assert reply.html.startswith("<b>You said:</b> a&lt;b&gt;&amp;c &lt;/i&gt;")
    assert reply.text.startswith("You said: a<b>&c </i>")


async def test_long_answer_is_split_cleanly(fake, telegram):
    fake.send_text(ADMIN, "/tlong")
    await fake.wait_for(lambda: any("Line 199" in t for t in fake.texts_to(ADMIN)))
    parts = fake.texts_to(ADMIN)
    assert len(parts) >= 5 and all(len(part) <= 4096 for part in parts)
    lines = "\n".join(parts).split("\n")
    assert [line.split(":")[0] for line in lines] == [f"Line {n}" for n in range(200)]


async def test_deep_link_payload_reaches_the_core(app, fake):
    received = []
    transport = await start_telegram(app, fake, received)
    try:
        fake.send_text(3003, "/start invite-abc123")
        [reply] = await fake.wait_for_sent(3003)
        assert received[0].text == "/start invite-abc123"
        assert reply.text == await core_answer(app, "/start invite-abc123", 3003)
    finally:
        await transport.stop()


async def test_group_answers_only_commands_replies_and_mentions(app, fake):
    received = []
    transport = await start_telegram(app, fake, received)
    try:
        fake.send_text(GROUP, "good morning everyone", user_id=4004)
        fake.send_text(GROUP, "/help@some_other_bot", user_id=4004)
        fake.send_text(GROUP, f"/whoami@{BOT_USERNAME}", user_id=4004)
        [whoami] = await fake.wait_for_sent(GROUP, 1)
        assert "telegram:4004" in whoami.text

        fake.send_text(GROUP, "housing Namur", user_id=4004, reply_to=whoami)
        fake.send_text(GROUP, f"@{BOT_USERNAME} housing Namur", user_id=4005)
        await fake.wait_for_sent(GROUP, 3)
        assert [m.text for m in received] == [f"/whoami@{BOT_USERNAME}", "housing Namur",
                                              "housing Namur"]
        assert all(m.addressed and not m.is_direct for m in received)
        assert received[1].reply_to == str(whoami.message_id)
        # nothing else was answered: the chatter and the other bot's command were ignored
        fake.send_text(GROUP, "/help", user_id=4004)
        await fake.wait_for_sent(GROUP, 4)
        assert len(fake.sent_to(GROUP)) == 4 and len(received) == 4
    finally:
        await transport.stop()


async def test_confirm_button_flow(app, fake, telegram):
    fake.send_text(ADMIN, "/tconfirm the meeting")
    [question] = await fake.wait_for_sent(ADMIN)
    assert question.text == "Confirm the meeting?"
    assert question.buttons == [("Yes", "yes"), ("No", "no")]

    press = fake.press(question, "yes")
    replies = await fake.wait_for_sent(ADMIN, 2)
    assert replies[1].text == "Confirmed the meeting."
    assert [a["callback_query_id"] for a in fake.callback_answers] == \
        [press["callback_query"]["id"]]
    assert fake.messages[(ADMIN, question.message_id)].buttons[0][0] == "✓ Yes"

    # pressing the edited keyboard again does nothing but stop the button's spinner
    fake.press(fake.messages[(ADMIN, question.message_id)], "coordbot:chosen")
    await fake.wait_for(lambda: len(fake.callback_answers) == 2)
    fake.send_text(ADMIN, "/techo done")
    replies = await fake.wait_for_sent(ADMIN, 3)
    assert replies[2].text == "You said: done"


async def test_confirm_button_in_a_group(app, fake, telegram):
    fake.send_text(GROUP, "/tconfirm the rota", user_id=4004)
    [question] = await fake.wait_for_sent(GROUP)
    fake.press(question, "no", user_id=4004)
    replies = await fake.wait_for_sent(GROUP, 2)
    assert replies[1].text == "Cancelled."


async def test_document_in_reaches_the_core(fake, telegram):
    fake.send_document(ADMIN, b"naam;stad\nOCMW;Gent\n", "contacts.csv",
                       caption="/timport")
    [reply] = await fake.wait_for_sent(ADMIN)
    assert reply.text == "Got contacts.csv (text/csv): 2 lines, first naam;stad"


async def test_documents_and_photos_out(fake, telegram):
    fake.send_text(ADMIN, "/texport")
    [export] = await fake.wait_for_sent(ADMIN)
    assert (export.method, export.filename, export.text) == ("sendDocument", "export.csv",
                                                             "Here is the export.")
    assert export.content == b"name;city\nCPAS;Liege\n"

    fake.send_text(ADMIN, "/tics")
    fake.send_text(ADMIN, "/tchart")
    sent = await fake.wait_for_sent(ADMIN, 3)
    assert (sent[1].method, sent[1].filename) == ("sendDocument", "meeting.ics")
    assert sent[1].content.startswith(b"BEGIN:VCALENDAR")
    assert (sent[2].method, sent[2].filename, sent[2].text) == ("sendPhoto", "chart.png", "Chart")


async def test_command_menu_published_per_language(app, fake, telegram):
    from bot.transports.registry import TELEGRAM_MENU_ROLE, command_menus

    expected = command_menus(app.services, TELEGRAM_MENU_ROLE)
    assert set(fake.commands) == {"", "fr", "nl", "de", "uk"}
    for language, published in fake.commands.items():
        assert [(c["command"], c["description"]) for c in published] == \
            expected[language or "en"]
    assert "help" in [c["command"] for c in fake.commands[""]]
    assert "role" not in [c["command"] for c in fake.commands[""]]
