"""Every real feature, end to end in Matrix, as Element users see it: people on matrix-nio write
to the bot running its real transport against a real Synapse; the real core (directory,
reminders, check-ins) answers. Messages the bot sends on its own go through the outbox."""
from __future__ import annotations

import csv
import io
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.messages import ChatRef
from bot.outbox import SENT, OutboxMessage
from bot.reminders.models import Acknowledgement
from bot.transports.matrix_format import KEYCAPS
from tests.matrix.people import MatrixPerson, is_file

pytestmark = pytest.mark.slow

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "directory" / "directory-sample.csv"
# What Element renders of a formatted_body (the spec's recommended subset that we use).
ELEMENT_TAGS = {"b", "i", "code", "br", "ol", "ul", "li", "p", "pre", "a", "strong", "em"}
VOID_TAGS = {"br"}


class _Balanced(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ELEMENT_TAGS:
            self.problems.append(f"<{tag}> is not rendered by Element")
        if tag not in VOID_TAGS:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.open[-1:] or 'nothing'}")
        else:
            self.open.pop()


def assert_element_html(event) -> None:
    """An m.notice with a plain body and a well-formed HTML formatted_body."""
    content = event.source["content"]
    assert content["msgtype"] == "m.notice"
    assert content["format"] == "org.matrix.custom.html"
    assert content["body"] and "<b>" not in content["body"]
    parser = _Balanced()
    parser.feed(content["formatted_body"])
    parser.close()
    assert not parser.problems and not parser.open, (parser.problems, parser.open)


async def replies(person: MatrixPerson, room: str, bot_id: str, text: str, count: int) -> list:
    """Sends `text`; returns the bot's next `count` messages in that room."""
    before = len(person.messages_from(bot_id, room))
    await person.say(room, text)
    return [await person.next_from(bot_id, room, after=before + n) for n in range(count)]


async def reacted(person: MatrixPerson, room: str, bot_id: str, event_id: str, key: str,
                  count: int = 1) -> list:
    before = len(person.messages_from(bot_id, room))
    await person.react(room, event_id, key)
    return [await person.next_from(bot_id, room, after=before + n) for n in range(count)]


async def caught_up(person: MatrixPerson, other: MatrixPerson, bot_id: str, room: str) -> None:
    """`person` has seen every bot message in `room` that `other` has seen (so that what
    `person` reads next is an answer to them, not an earlier one still arriving)."""
    seen = len(other.messages_from(bot_id, room))
    await person.next_from(bot_id, room, after=seen - 1)


def numbered(event, label: str) -> str:
    """The number Element shows in front of `label` in the bot's numbered options."""
    for line in event.body.splitlines():
        number, _, text = line.partition(". ")
        if number.isdigit() and text == label:
            return number
    raise AssertionError(f"{label!r} is not an option of {event.body!r}")


async def load_sample_directory(services) -> None:
    directory = services.directory
    async with services.db.transaction() as session:
        report = await directory.import_file(session, SAMPLE.read_bytes(), replace=True)
        assert report.applied
    async with services.db.session() as session:
        await directory.refresh(session)


async def bot_with_admin(make_matrix_bot, people, name: str = "coordinator"):
    """The bot with one person made admin through COORDBOT_ADMINS, as an operator does."""
    admin = await people(name)
    bot = await make_matrix_bot(admins=[f"matrix:{admin.user_id}"])
    await load_sample_directory(bot.services)
    return bot, admin


# ---- 1. the directory in an encrypted direct chat, and its export ---------------------------

async def test_directory_in_an_encrypted_direct_chat(make_matrix_bot, people):
    bot, alice = await bot_with_admin(make_matrix_bot, people, "alice")
    room = await alice.direct_chat(bot.user_id, encrypted=True)

    answer = await alice.ask(room, bot.user_id, "housing 4000")
    assert answer.decrypted, "the answer in an encrypted room must be encrypted"
    assert_element_html(answer)
    assert answer.body.startswith("Who handles Housing for Liège:"), answer.body
    assert answer.body.split("\n\n")[1].startswith("1. CPAS de Liège (cpas-liege)")
    assert "Who handles <b>Housing</b> for <b>Liège</b>:" in answer.formatted_body
    assert "<b>CPAS de Liège</b> (<code>cpas-liege</code>)" in answer.formatted_body

    # an ambiguous place: a numbered choice, answered by its number ...
    question = await alice.ask(room, bot.user_id, "CPAS Saint-Nicolas")
    assert_element_html(question)
    # Matrix gives no language hint: someone who never chose a language is answered in the
    # language of their question (French here)
    assert "« Saint-Nicolas » peut désigner plusieurs lieux." in question.body
    liege = "Saint-Nicolas (Province de Liège)"
    flanders = "Saint-Nicolas (Province de Flandre orientale)"
    assert "<ol><li>" in question.formatted_body and f"<li>{liege}</li>" in question.formatted_body
    chosen = await alice.ask(room, bot.user_id, numbered(question, liege))
    assert chosen.body.split("\n\n")[1].startswith(
        "1. CPAS de Saint-Nicolas (cpas-saint-nicolas)"), chosen.body
    assert "ocmw-sint-niklaas" not in chosen.body

    # ... and by a click on the reaction the bot put under it
    question = await alice.ask(room, bot.user_id, "CPAS Saint-Nicolas")
    keycap = KEYCAPS[int(numbered(question, flanders)) - 1]
    [chosen] = await reacted(alice, room, bot.user_id, question.event_id, keycap)
    assert "(ocmw-sint-niklaas)" in chosen.body, chosen.body
    assert "cpas-saint-nicolas" not in chosen.body

    # 5. the directory as a file, encrypted like the room
    notice, export = await replies(alice, room, bot.user_id, "!export_directory", 2)
    assert_element_html(notice)
    assert is_file(export) and export.source["content"]["msgtype"] == "m.file"
    assert export.body == "directory.csv"
    assert "file" in export.source["content"], "a file in an encrypted room must be encrypted"
    rows = list(csv.reader(io.StringIO((await alice.file_content(export)).decode("utf-8-sig"))))
    assert rows[1][0] == "#meta+id" and "cpas-liege" in {row[0] for row in rows}


# ---- 2. a group room: commands are answered, chatter is not ----------------------------------

async def test_group_room_answers_who_and_ignores_chatter(make_matrix_bot, people):
    bot = await make_matrix_bot()
    await load_sample_directory(bot.services)
    alice, bob = await people("alice"), await people("bob")
    room = await alice.group([bob.user_id, bot.user_id])
    await bob.join(room)
    await alice.wait_joined(room, bot.user_id)
    await alice.wait_joined(room, bob.user_id)

    await bob.say(room, "leefloon Gent, who knows?")   # chatter, though a directory question
    answer = await alice.ask(room, bot.user_id, "!who leefloon Gent")

    # A room's events are answered in order: an answer to the chatter would have come first.
    assert answer.body.startswith("Who handles Social aid and income support for Ghent:"), \
        answer.body
    assert "OCMW Gent (ocmw-gent)" in answer.body
    assert_element_html(answer)
    assert not answer.source["content"].get("file")
    assert len(alice.messages_from(bot.user_id, room)) == 1


# ---- 3. a meeting reminder delivered to a room, answered by its members -------------------

async def test_meeting_reminder_in_a_room_is_answered_by_members(make_matrix_bot, people):
    bot, coordinator = await bot_with_admin(make_matrix_bot, people)
    bob, carol = await people("bob"), await people("carol")
    room = await coordinator.group([bob.user_id, carol.user_id, bot.user_id])
    await bob.join(room)
    await carol.join(room)
    for member in (bot, bob, carol):
        await coordinator.wait_joined(room, member.user_id)
    services = bot.services

    preview = await coordinator.ask(room, bot.user_id, "!meeting in 2 minutes; Coordination; here")
    assert_element_html(preview)
    assert "Coordination" in preview.body and "Mon 2 Mar 2026, 10:02" in preview.body
    assert preview.body.endswith("1. Confirm\n2. Cancel"), preview.body
    saved = await coordinator.ask(room, bot.user_id, "1")
    assert saved.body.startswith("Saved as R1. Next: Mon 2 Mar 2026, 10:02"), saved.body

    # 5. the coming meeting as a calendar file
    notice, ics = await replies(coordinator, room, bot.user_id, "!calendar", 2)
    assert notice.body.startswith("Your meetings and deadlines (1)")
    assert is_file(ics) and ics.source["content"]["msgtype"] == "m.file"
    assert ics.body == "coordbot.ics"
    assert ics.source["content"]["info"]["mimetype"] == "text/calendar"
    calendar = (await coordinator.file_content(ics)).decode()
    assert "BEGIN:VCALENDAR" in calendar and "SUMMARY:Coordination" in calendar

    seen = len(bob.messages_from(bot.user_id, room))
    services.clock.advance(timedelta(minutes=1))
    await services.reminders.run_due()
    services.clock.advance(timedelta(minutes=1))
    await services.reminders.run_due()
    await services.reminders.run_due()   # a second pass sends nothing twice
    await services.outbox.deliver_pending()
    delivered = await bob.next_from(bot.user_id, room, after=seen)
    assert_element_html(delivered)
    assert delivered.body == ("Coordination\nMeeting: Mon 2 Mar 2026, 10:02.\n"
                              "To answer later: !ack R1 yes or !ack R1 no.\n"
                              "1. I'll attend\n2. Can't attend"), delivered.body
    async with services.db.session() as session:
        [row] = list(await session.scalars(select(OutboxMessage)))
    assert row.status == SENT and row.platform_message_id == delivered.event_id
    # the resend after a crash reuses the outbox row's transaction id: the same event
    again = await bot.transport.send(ChatRef.parse(row.chat_key), row.reply(),
                                     idempotency_key=row.idempotency_key)
    assert again.ok and again.message_id == delivered.event_id

    # each member answers for themselves: a reaction, a number, the text
    [noted] = await reacted(bob, room, bot.user_id, delivered.event_id, "1️⃣")
    assert noted.body == "Thank you, noted for Coordination: will attend.", noted.body
    await caught_up(carol, bob, bot.user_id, room)
    noted = await carol.ask(room, bot.user_id, "2")
    assert noted.body == "Thank you, noted for Coordination: cannot attend.", noted.body
    await caught_up(coordinator, carol, bot.user_id, room)
    noted = await coordinator.ask(room, bot.user_id, "I'll attend")
    assert noted.body == "Thank you, noted for Coordination: will attend.", noted.body
    async with services.db.session() as session:
        assert len(list(await session.scalars(select(Acknowledgement)))) == 3

    answers = await coordinator.ask(room, bot.user_id, "!acks R1")
    assert_element_html(answers)
    attend = next(line for line in answers.body.splitlines() if "2 will attend" in line)
    absent = next(line for line in answers.body.splitlines() if "1 cannot attend" in line)
    assert bob.account.localpart in attend and coordinator.account.localpart in attend
    assert carol.account.localpart in absent
    # the delivered reminder arrived once
    texts = [m.body for m in bob.messages_from(bot.user_id, room)]
    assert sum(t.startswith("Coordination\nMeeting:") for t in texts) == 1


# ---- 4. a check-in conversation in an encrypted direct chat ---------------------------------

async def test_checkin_conversation_results_and_export(make_matrix_bot, people):
    bot, coordinator = await bot_with_admin(make_matrix_bot, people)
    marie = await people("marie")
    office = await coordinator.direct_chat(bot.user_id, encrypted=True)
    inbox = await marie.direct_chat(bot.user_id, encrypted=True)
    await marie.ask(inbox, bot.user_id, "!start")
    made = await coordinator.ask(office, bot.user_id, f"!role matrix:{marie.user_id} focal_point")
    assert "is now focal point" in made.body, made.body

    preview = await coordinator.ask(
        office, bot.user_id, "!rounds open weekly_local; 2026-03-06 17:00; role:focal_point")
    assert "1 recipient: " in preview.body, preview.body
    opened = await coordinator.ask(office, bot.user_id, "1")
    assert "Round 1 of weekly_local is open: 1 person is being asked." in opened.body
    seen = len(marie.messages_from(bot.user_id, inbox))
    await bot.services.outbox.deliver_pending()

    invitation = await marie.next_from(bot.user_id, inbox, after=seen)
    assert invitation.decrypted
    assert_element_html(invitation)
    assert "Question 1 of 7: Which province is your CPAS/OCMW in?" in invitation.body, \
        invitation.body
    question = await marie.ask(inbox, bot.user_id, numbered(invitation, "Liège"))
    assert question.body.startswith("Question 2 of 7: How many"), question.body

    # an invalid value is explained, and the question asked again
    explanation, again = await replies(marie, inbox, bot.user_id, "-3", 2)
    assert explanation.body == "Enter a whole number between 0 and 10000.", explanation.body
    assert again.body == question.body
    question = await marie.ask(inbox, bot.user_id, "12")
    assert question.body.startswith("Question 3 of 7"), question.body
    back = await marie.ask(inbox, bot.user_id, "!back")
    assert back.body.startswith("Question 2 of 7"), back.body
    assert (await marie.ask(inbox, bot.user_id, "12")).body.startswith("Question 3 of 7")
    situation = await marie.ask(inbox, bot.user_id, "4")
    assert situation.body.startswith("Question 4 of 7: Overall situation"), situation.body
    # a choice by the reaction under the question
    [question] = await reacted(marie, inbox, bot.user_id, situation.event_id, "2️⃣")
    assert question.body.startswith("Question 5 of 7"), question.body
    question = await marie.ask(inbox, bot.user_id, numbered(question, "Housing"))
    assert question.body.startswith("Question 6 of 7"), question.body
    question = await marie.ask(inbox, bot.user_id, "1, 3")
    assert question.body.startswith("Question 7 of 7"), question.body
    review = await marie.ask(inbox, bot.user_id, "!skip")
    assert review.body.startswith("Please check your answers"), review.body
    for line in ("Which province is your CPAS/OCMW in: Liège",
                 "Overall situation this week: Amber: under strain",
                 "What is the main bottleneck: Housing"):
        assert line in review.body, line
    assert review.body.endswith("1. Submit\n2. Change an answer"), review.body
    thanks = await marie.ask(inbox, bot.user_id, "1")
    assert thanks.body.startswith("Thank you, your answers are recorded."), thanks.body

    summary, caption, chart = await replies(coordinator, office, bot.user_id,
                                            "!results weekly_local", 3)
    assert caption.body == "Main figures over the last rounds."
    assert_element_html(summary)
    assert "Responses: 1 of 1 (100%)" in summary.body, summary.body
    assert "What is the main bottleneck: Housing (1)" in summary.body
    assert chart.source["content"]["msgtype"] == "m.image"
    assert chart.body == "weekly_local-round1.png" and "file" in chart.source["content"]
    assert (await coordinator.file_content(chart)).startswith(b"\x89PNG")

    exported = await replies(coordinator, office, bot.user_id, "!export weekly_local", 4)
    files = {event.body: event for event in exported if is_file(event)}
    assert set(files) == {"weekly_local-round1.csv", "weekly_local-round1.xlsx"}, \
        [e.body for e in exported]
    for event in files.values():
        assert event.source["content"]["msgtype"] == "m.file"
        assert "file" in event.source["content"], "files in encrypted rooms are encrypted"
    table = (await coordinator.file_content(files["weekly_local-round1.csv"])).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(table)))
    assert len(rows) == 3 and "BE-WLG" in rows[2] and "12" in rows[2]
    assert (await coordinator.file_content(files["weekly_local-round1.xlsx"])).startswith(b"PK")


# ---- 6. registration by invitation ----------------------------------------------------------

async def test_invitation_code_registers_a_focal_point_in_matrix(make_matrix_bot, people):
    from tests.trust.helpers import code_in

    bot, coordinator = await bot_with_admin(make_matrix_bot, people)
    admin_room = await coordinator.direct_chat(bot.user_id, encrypted=True)
    invitation = await coordinator.ask(admin_room, bot.user_id,
                                       "!invite focal_point cpas-liege cpas-liege")
    code = code_in(invitation.body)

    newcomer = await people("fanny")
    room = await newcomer.direct_chat(bot.user_id, encrypted=True)
    welcome = await newcomer.ask(room, bot.user_id, f"!start {code}")
    assert "focal point" in welcome.body, welcome.body
    whoami = await newcomer.ask(room, bot.user_id, "!whoami")
    assert "Role: focal point" in whoami.body and "cpas-liege" in whoami.body
    assert f"matrix:{newcomer.user_id}" in whoami.body
