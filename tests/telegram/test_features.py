"""Every feature, end to end in Telegram: people write, press buttons and send files to our
Bot API server; python-telegram-bot's real HTTP stack carries it to the transport; the real
core (directory, reminders, check-ins) answers; the test reads what each person's phone shows.
Messages the bot sends on its own go through the outbox and the same transport."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.directory.models import DirectoryEntry
from bot.outbox import FAILED, SENT, OutboxMessage
from bot.people import KnownChat
from bot.reminders.models import Acknowledgement
from tests.telegram.conftest import ADMIN
from tests.telegram.fake_bot_api import FakeBotApi, Sent

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "directory" / "directory-sample.csv"
COORDINATOR = 1002
GROUP = -100555


@dataclass
class Phone:
    """One person's private chat with the bot, as their Telegram app shows it."""

    fake: FakeBotApi
    chat_id: int
    lang: str = "en"
    username: str | None = None

    @property
    def received(self) -> list[Sent]:
        return self.fake.sent_to(self.chat_id)

    @property
    def last(self) -> Sent:
        return self.received[-1]

    async def send(self, text: str) -> list[Sent]:
        """Writes `text`; returns what the bot answered (once it confirmed the update)."""
        before = len(self.received)
        self.fake.send_text(self.chat_id, text, lang=self.lang, username=self.username)
        await self.fake.wait_until_handled()
        return self.received[before:]

    async def ask(self, text: str) -> Sent:
        """Writes `text`, expecting exactly one message back."""
        [answer] = await self.send(text)
        return answer

    async def press(self, message: Sent, label: str) -> list[Sent]:
        """Presses the button labelled `label` under `message`."""
        current = self.fake.messages[(message.chat_id, message.message_id)]
        data = dict(current.buttons)[label]
        before = len(self.received)
        answered = len(self.fake.callback_answers)
        self.fake.press(current, data, lang=self.lang)
        await self.fake.wait_until_handled()
        assert len(self.fake.callback_answers) == answered + 1  # the spinner stopped
        return self.received[before:]

    async def upload(self, content: bytes, filename: str, caption: str) -> list[Sent]:
        before = len(self.received)
        self.fake.send_document(self.chat_id, content, filename, caption=caption,
                                lang=self.lang)
        await self.fake.wait_until_handled()
        return self.received[before:]

    def keyboard_of(self, message: Sent) -> list[str]:
        """The button labels under `message` now (after any edit)."""
        return [label for label, _data in
                self.fake.messages[(message.chat_id, message.message_id)].buttons]


def assert_all_valid_html(fake: FakeBotApi, chat_id: int) -> None:
    """Every text to the chat went out as HTML and the server accepted it the first time (the
    transport falls back to plain text only after Telegram refused the HTML)."""
    calls = [c for c in fake.calls_of("sendMessage") if c["chat_id"] == chat_id]
    sent = [s for s in fake.sent_to(chat_id) if s.method == "sendMessage"]
    assert calls and len(calls) == len(sent)
    assert all(c.get("parse_mode") == "HTML" for c in calls)


async def person(fake: FakeBotApi, chat_id: int, *, lang: str = "en",
                 username: str | None = None, role: str | None = None) -> Phone:
    """Someone who wrote to the bot once (`/start`), given `role` by the admin."""
    phone = Phone(fake, chat_id, lang, username)
    await phone.ask("/start")
    if role is not None:
        admin = Phone(fake, ADMIN)
        answer = await admin.ask(f"/role telegram:{chat_id} {role}")
        assert f"is now {role.replace('_', ' ')}" in answer.text, answer.text
    return phone


async def load_sample_directory(app) -> None:
    directory = app.services.directory
    async with app.services.db.transaction() as session:
        report = await directory.import_file(session, SAMPLE.read_bytes(), replace=True)
        assert report.applied
    async with app.services.db.session() as session:
        await directory.refresh(session)


async def count(app, model) -> int:
    async with app.services.db.session() as session:
        return await session.scalar(select(func.count()).select_from(model))


# ---- 1. the directory ---------------------------------------------------------------------

async def test_directory_question_and_ambiguous_place_by_button(app, fake, telegram):
    await load_sample_directory(app)
    guest = await person(fake, 2002)

    answer = await guest.ask("housing 4000")
    assert answer.text.startswith("Who handles Housing for Liège:")
    assert "Who handles <b>Housing</b> for <b>Liège</b>:" in answer.html
    first_result = answer.text.split("\n\n")[1]
    assert first_result.startswith("1. CPAS de Liège (cpas-liege)")
    assert "<b>CPAS de Liège</b> (<code>cpas-liege</code>)" in answer.html

    # what the directory's editors wrote is escaped, never taken for markup
    answer = await guest.ask("inburgering Antwerpen")
    assert "Atlas, integratie & inburgering Antwerpen (vlg-atlas)" in answer.text
    assert "<b>Atlas, integratie &amp; inburgering Antwerpen</b>" in answer.html

    question = await guest.ask("CPAS Saint-Nicolas")
    assert "can mean several places" in question.text
    labels = [label for label, _data in question.buttons]
    assert len(labels) == 2
    liege = "Saint-Nicolas (Province of Liège)"
    assert liege in labels
    [chosen] = await guest.press(question, liege)
    assert chosen.text.startswith("Who handles Social aid and income support for "
                                  "Saint-Nicolas:\n\n1. CPAS de Saint-Nicolas "
                                  "(cpas-saint-nicolas)")
    assert "ocmw-sint-niklaas" not in chosen.text
    assert guest.keyboard_of(question) == [f"✓ {liege}"]
    assert_all_valid_html(fake, guest.chat_id)

    # the question is answered: pressing what is left of the keyboard does nothing more
    assert await guest.press(question, f"✓ {liege}") == []


# ---- 2. reminders -------------------------------------------------------------------------

async def test_reminder_confirmed_by_button_is_delivered_with_its_answer_buttons(app, fake,
                                                                                 telegram):
    coordinator = await person(fake, COORDINATOR, role="coordinator")
    focal = await person(fake, 3003, username="marie")

    preview = await coordinator.ask("/remind in 2 minutes; Call the CPAS")
    assert "Call the CPAS" in preview.text and "Mon 2 Mar 2026, 10:02" in preview.text
    assert [label for label, _data in preview.buttons] == ["Confirm", "Cancel"]
    [saved] = await coordinator.press(preview, "Confirm")
    assert saved.text.startswith("Saved as R1. Next: Mon 2 Mar 2026, 10:02")
    assert coordinator.keyboard_of(preview) == ["✓ Confirm"]

    meeting = await coordinator.ask("/meeting in 5 minutes; Coordination call; here, @marie")
    assert "Coordination call" in meeting.text
    assert "Saved as R2" in (await coordinator.press(meeting, "Confirm"))[0].text
    [calendar] = await coordinator.send("/calendar")   # the coming meeting, for Outlook & co
    assert (calendar.method, calendar.filename) == ("sendDocument", "coordbot.ics")
    assert calendar.text.startswith("Your meetings and deadlines (1)")
    ics = calendar.content.decode()
    assert "BEGIN:VCALENDAR" in ics and "SUMMARY:Coordination call" in ics
    assert "Call the CPAS" not in ics   # plain reminders are not calendar events

    app.clock.advance(timedelta(minutes=1))
    await app.services.reminders.run_due()
    assert coordinator.last.method == "sendDocument"   # nothing due yet

    app.clock.advance(timedelta(minutes=1))
    await app.services.reminders.run_due()
    await app.services.reminders.run_due()   # a second pass sends nothing twice
    assert coordinator.last.text == "Call the CPAS" and coordinator.last.buttons == []

    app.clock.advance(timedelta(minutes=3))
    await app.services.reminders.run_due()
    to_coordinator, to_focal = coordinator.last, focal.last
    for delivered in (to_coordinator, to_focal):
        assert delivered.text == ("Coordination call\nMeeting: Mon 2 Mar 2026, 10:05.\n"
                                  "To answer later: /ack R2 yes or /ack R2 no.")
        assert [label for label, _data in delivered.buttons] == ["I'll attend", "Can't attend"]
    [noted] = await coordinator.press(to_coordinator, "I'll attend")
    assert noted.text == "Thank you, noted for Coordination call: will attend."
    assert coordinator.keyboard_of(to_coordinator) == ["✓ I'll attend"]
    [noted] = await focal.press(to_focal, "Can't attend")
    assert "cannot attend" in noted.text
    assert await count(app, Acknowledgement) == 2
    answers = await coordinator.ask("/acks R2")
    assert "1 will attend: User1002" in answers.text
    assert "1 cannot attend: User3003" in answers.text

    for phone in (coordinator, focal):
        assert_all_valid_html(fake, phone.chat_id)


async def test_meeting_in_a_group_is_answered_by_each_member(app, fake, telegram):
    coordinator = await person(fake, COORDINATOR, role="coordinator")
    fake.send_text(GROUP, "/meeting in 10 minutes; Weekly call; here", user_id=COORDINATOR)
    await fake.wait_until_handled()
    [preview] = fake.sent_to(GROUP)
    fake.press(preview, "yes", user_id=COORDINATOR)
    await fake.wait_until_handled()
    assert fake.sent_to(GROUP)[-1].text.startswith("Saved as R1")
    assert [label for label, _data in fake.messages[(GROUP, preview.message_id)].buttons] \
        == ["✓ Confirm"]

    app.clock.advance(timedelta(minutes=10))
    await app.services.reminders.run_due()
    delivered = fake.sent_to(GROUP)[-1]
    assert delivered.text.startswith("Weekly call\nMeeting:")
    buttons = dict(delivered.buttons)
    # every member answers for themselves, with the same keyboard
    for member, label in ((4004, "I'll attend"), (4005, "Can't attend"),
                          (COORDINATOR, "I'll attend")):
        before = len(fake.sent_to(GROUP))
        fake.press(fake.messages[(GROUP, delivered.message_id)], buttons[label], user_id=member)
        await fake.wait_until_handled()
        [noted] = fake.sent_to(GROUP)[before:]
        assert noted.text.startswith("Thank you, noted for Weekly call")
        assert fake.callback_answers[-1].get("text") == f"✓ {label}"
        assert fake.messages[(GROUP, delivered.message_id)].buttons == list(buttons.items())
    # a double tap is one answer
    before = len(fake.sent_to(GROUP))
    fake.press(fake.messages[(GROUP, delivered.message_id)], buttons["Can't attend"],
               user_id=4005)
    await fake.wait_until_handled()
    assert len(fake.sent_to(GROUP)) == before
    assert await count(app, Acknowledgement) == 3
    answers = await coordinator.ask("/acks R1")
    assert "2 will attend: User1002, User4004" in answers.text
    assert "1 cannot attend: User4005" in answers.text
    assert_all_valid_html(fake, GROUP)


# ---- 3. check-ins -------------------------------------------------------------------------

async def test_checkin_answered_with_buttons_and_numbers(app, fake, telegram):
    coordinator = await person(fake, COORDINATOR, role="coordinator")
    focal = await person(fake, 3003, lang="fr", role="focal_point")
    await focal.ask("/lang fr")

    preview = await coordinator.ask(
        "/rounds open weekly_local; 2026-03-06 17:00; role:focal_point")
    assert "1 recipient: User3003." in preview.text
    [opened] = await coordinator.press(preview, "Confirm")
    assert "Round 1 of weekly_local is open: 1 person is being asked." in opened.text
    await app.services.outbox.deliver_pending()

    invitation = focal.last
    assert "Question 1 sur 7 : Dans quelle province se trouve votre CPAS" in invitation.text
    assert "<b>Dans quelle province" in invitation.html
    provinces = [label for label, _data in invitation.buttons]
    assert len(provinces) == 11 and provinces[8] == "Liège"

    # a select_one by button: the keyboard then shows the choice
    [question] = await focal.press(invitation, "Liège")
    assert focal.keyboard_of(invitation) == ["✓ Liège"]
    assert question.text.startswith("Question 2 sur 7 : Combien de personnes")

    # invalid values are explained in French, and the question is asked again
    explanation, again = await focal.send("-3")
    assert explanation.text == "Indiquez un nombre entier entre 0 et 10000."
    assert again.text == question.text
    explanation, again = await focal.send("beaucoup")
    assert explanation.text == "Merci de répondre par un nombre entier, par exemple 12."
    [question] = await focal.send("12")
    assert question.text.startswith("Question 3 sur 7")
    [question] = await focal.send("4")
    assert question.text.startswith("Question 4 sur 7 : Situation générale")
    assert [label for label, _data in question.buttons] == [
        "Vert : sous contrôle", "Orange : sous tension", "Rouge : débordé"]

    # a select_one by typing the number of its button
    [question] = await focal.send("2")
    assert question.text.startswith("Question 5 sur 7 : Quel est le principal point de blocage")
    [question] = await focal.press(question, "Logement")
    assert question.text.startswith("Question 6 sur 7") and question.buttons == []
    [question] = await focal.send("1, 3")   # select_multiple: numbers
    assert question.text.startswith("Question 7 sur 7")
    [review] = await focal.send("/skip")
    assert review.text.startswith("Vérifiez vos réponses")
    for line in ("1. Dans quelle province se trouve votre CPAS : Liège",
                 "cette semaine : 12", "aujourd'hui : 4",
                 "4. Situation générale cette semaine : Orange : sous tension",
                 "5. Quel est le principal point de blocage : Logement",
                 "(plusieurs réponses possibles) : Interprètes, Formation du personnel"):
        assert line in review.text, line
    assert [label for label, _data in review.buttons] == ["Envoyer", "Modifier une réponse"]
    [thanks] = await focal.press(review, "Envoyer")
    assert thanks.text.startswith("Merci, vos réponses sont enregistrées.")
    assert_all_valid_html(fake, focal.chat_id)

    summary, chart = await coordinator.send("/results weekly_local")
    assert "Responses: 1 of 1 (100%)" in summary.text and "Everyone answered." in summary.text
    for line in ("Which province is your CPAS/OCMW in: Liège (1)",
                 "this week: total 12 (1 answer, mean 12)",
                 "available today: total 4 (1 answer, mean 4)",
                 "Overall situation this week: Amber: under strain (1)",
                 "What is the main bottleneck: Housing (1)",
                 "(several answers possible): Interpreters (1), Staff training (1)"):
        assert line in summary.text, line
    assert (chart.method, chart.filename) == ("sendPhoto", "weekly_local-round1.png")
    assert chart.content.startswith(b"\x89PNG")

    table, workbook = await coordinator.send("/export weekly_local")
    assert (table.method, table.filename) == ("sendDocument", "weekly_local-round1.csv")
    rows = list(csv.reader(io.StringIO(table.content.decode("utf-8-sig"))))
    assert len(rows) == 3 and "BE-WLG" in rows[2] and "12" in rows[2]
    assert (workbook.method, workbook.filename) == ("sendDocument", "weekly_local-round1.xlsx")
    assert workbook.content.startswith(b"PK")


# ---- 4. importing and exporting the directory ---------------------------------------------

async def test_csv_import_by_document_then_search_and_export(app, fake, telegram):
    coordinator = await person(fake, COORDINATOR, role="coordinator")
    [report] = await coordinator.upload(SAMPLE.read_bytes(), "directory.csv", "/import")
    assert report.text.startswith("Directory updated: ")
    entries = await count(app, DirectoryEntry)
    assert entries > 10 and f"{entries} new" in report.text

    answer = await coordinator.ask("housing 4000")
    assert "CPAS de Liège (cpas-liege)" in answer.text

    bad = (b"id,organisation,topics,coverage\n"
           b"x1,CPAS de Test,housing,62063\n"
           b"x2,CPAS de Nulle Part,flying,62063\n")
    [refused] = await coordinator.upload(bad, "fixed.csv", "/import replace")
    assert "nothing was changed" in refused.text
    assert "line 3, column topics" in refused.text and "flying" in refused.text
    assert await count(app, DirectoryEntry) == entries
    assert "CPAS de Liège" in (await coordinator.ask("housing 4000")).text

    [export] = await coordinator.send("/export_directory")
    assert (export.method, export.filename) == ("sendDocument", "directory.csv")
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[1][0] == "#meta+id" and "cpas-liege" in {row[0] for row in rows}
    assert len(rows) == entries + 2
    assert_all_valid_html(fake, coordinator.chat_id)


# ---- 5. broadcasts ------------------------------------------------------------------------

async def test_broadcast_confirmed_by_button_reaches_each_chat_once(app, fake, telegram):
    coordinator = await person(fake, COORDINATOR, role="coordinator")
    guests = [await person(fake, chat_id) for chat_id in (2002, 2003, 2004)]
    fake.block(2004)   # blocked the bot without the bot being told (yet)

    preview = await coordinator.ask("/broadcast role:guest; Office closed on Friday")
    assert "3 recipients: " in preview.text and "Office closed on Friday" in preview.text
    answers = await coordinator.press(preview, "Confirm")
    assert coordinator.keyboard_of(preview) == ["✓ Confirm"]
    texts = [a.text for a in answers]
    assert any("Broadcast B1 is on its way to 3 chats" in t for t in texts)
    [report] = [t for t in texts if t.startswith("Broadcast B1:")]
    assert report.startswith("Broadcast B1: 2 sent, 1 failed.")
    assert "telegram:2004" in report and "blocked" in report

    for guest in guests[:2]:
        assert [s.text for s in guest.received[1:]] == [
            "Message from User1002:\nOffice closed on Friday"]
    assert len(guests[2].received) == 1   # only the /start answer, before the block
    async with app.services.db.session() as session:
        statuses = sorted((m.chat_key, m.status) for m in await session.scalars(
            select(OutboxMessage).where(OutboxMessage.source == "broadcast:1")))
        blocked = await session.get(KnownChat, "telegram:2004")
    assert statuses == [("telegram:2002", SENT), ("telegram:2003", SENT),
                        ("telegram:2004", FAILED)]
    assert blocked.unreachable_since is not None
    sends_to_blocked = [c for c in fake.calls_of("sendMessage") if c["chat_id"] == 2004]
    assert len(sends_to_blocked) == 2   # /start answer, one attempt; never retried

    # the outbox does not retry it later either
    await app.services.outbox.deliver_pending()
    assert len([c for c in fake.calls_of("sendMessage") if c["chat_id"] == 2004]) == 2
    assert_all_valid_html(fake, coordinator.chat_id)


# ---- 6. registration by invitation ----------------------------------------------------------

async def test_invitation_code_registers_a_focal_point_in_telegram(app, fake, telegram):
    from tests.trust.helpers import code_in

    coordinator = await person(fake, COORDINATOR, role="coordinator")
    invitation = await coordinator.ask("/invite focal_point cpas-liege cpas-liege")
    code = code_in(invitation.text)
    newcomer = Phone(fake, 2077, lang="fr")

    welcome = await newcomer.ask(f"/start {code}")
    assert "point focal" in welcome.text  # told in their own language what they now are
    whoami = await newcomer.ask("/whoami")
    assert "Rôle : point focal" in whoami.text and "cpas-liege" in whoami.text
    # single use: a second person cannot reuse it
    intruder = Phone(fake, 2078)
    refused = await intruder.ask(f"/start {code}")
    assert "focal point" not in refused.text
    assert "Role: guest" in (await intruder.ask("/whoami")).text
