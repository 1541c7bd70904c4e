"""Who may record what, bad input, the calendar's VTODOs, /mydata and /forget, and follow-up
that survives a restart. Monday 2 March 2026, 10:00 in Brussels."""
import json
from datetime import timedelta

from icalendar import Calendar
from sqlalchemy import select

from bot.clock import FakeClock
from bot.meetings.models import MeetingItem
from bot.outbox import OutboxMessage
from tests.harness import RecordingTransport, make_bot


async def meeting(bot, audience: str = "@alice, @bob, @carol") -> None:
    await bot.say("/meeting chaque premier mardi du mois à 10h; Coordination; " + audience,
                  as_="alice")
    assert "R1" in await bot.ask("1", as_="alice")


async def everyone(bot, *names: str) -> None:
    for name in ("alice", "bob", "carol", "dirk", *names):
        await bot.say("/whoami", as_=name)


async def count(bot) -> int:
    return await bot.count(MeetingItem)


async def test_a_guest_cannot_record_decisions_or_actions(bot):
    await everyone(bot)
    await meeting(bot)
    await bot.say("/lang fr", as_="bob")
    assert "pas accessible" in await bot.ask("/decision R1; Tout le monde en congé", as_="bob")
    assert "pas accessible" in await bot.ask("/action R1; @bob; vendredi; x", as_="bob")
    # A participant may add an agenda point; a staff member who is not the owner may not
    # record decisions either.
    assert "R1" in await bot.ask("/agenda R1; Point divers", as_="bob")
    await bot.say("/role carol staff", as_="alice")
    await bot.say("/lang nl", as_="carol")
    assert "Alleen wie de vergadering organiseert" in await bot.ask("/decision R1; x",
                                                                   as_="carol")
    assert await count(bot) == 1


async def test_someone_outside_the_meeting_learns_nothing(bot):
    await everyone(bot)
    await meeting(bot, "@alice, @bob")
    await bot.say("/lang nl", as_="dirk")
    assert "geen vergadering R1" in await bot.ask("/agenda R1; Iets", as_="dirk")
    assert "geen vergadering R1" in await bot.ask("/minutes R1", as_="dirk")
    assert "geen vergadering R9" in await bot.ask("/agenda R9", as_="dirk")
    assert await count(bot) == 0


async def test_bad_input_gets_a_translated_error_and_changes_nothing(bot):
    await everyone(bot)
    await meeting(bot)
    await bot.say("/lang fr", as_="alice")
    assert "comprendre « blabla »" in await bot.ask("/action R1; @bob; blabla; Texte")
    assert "passé" in await bot.ask("/action R1; @bob; 1/1/2020; Texte")
    assert "inconnu" in await bot.ask("/action R1; @personne; vendredi; Texte") or \
        "écrire" in await bot.ask("/action R1; @personne; vendredi; Texte")
    assert "Utilisation" in await bot.ask("/action R1; @bob; vendredi")
    assert "trop long" in await bot.ask("/decision R1; " + "x" * 1200)
    assert "dernier « ; »" in await bot.ask("/agenda R1;  ")
    assert "pas d’action A77" in await bot.ask("/done A77")
    assert "pas de réunion R2" in await bot.ask("/minutes R2")
    assert "comprendre" in await bot.ask("/minutes R1 blabla")
    # Cancel at the preview saves nothing.
    await bot.ask("/action R1; @bob; vendredi; Texte")
    assert "rien n’a été enregistré" in await bot.ask("2")
    assert await count(bot) == 0


async def test_actions_due_dates_are_vtodos_in_the_calendar(bot):
    await everyone(bot)
    await meeting(bot)
    await bot.say("/action R1; @bob; vendredi; Envoyer le rapport", as_="alice")
    await bot.say("1", as_="alice")
    [reply] = await bot.say("/calendar", as_="bob")
    calendar = Calendar.from_ical(reply.attachment.content)
    [todo] = [c for c in calendar.walk("VTODO")]
    assert str(todo["summary"]) == "Envoyer le rapport"
    assert todo.decoded("due").isoformat() == "2026-03-06T22:59:00+00:00"
    assert str(todo["status"]) == "NEEDS-ACTION"
    assert len(calendar.walk("VEVENT")) == 1


async def test_mydata_and_forget_cover_meetings(bot):
    await everyone(bot)
    await meeting(bot)
    await bot.say("/agenda R1; Mon point", as_="bob")
    await bot.say("/action R1; @bob; vendredi; Rapport de Bob", as_="alice")
    await bot.say("1", as_="alice")
    [reply] = await bot.say("/mydata", as_="bob")
    data = json.loads(reply.attachment.content)["sections"]["meetings"]
    assert [i["text"] for i in data["recorded"]] == ["Mon point"]
    assert [i["text"] for i in data["actions_for_me"]] == ["Rapport de Bob"]
    await bot.say("/forget", as_="bob")
    await bot.say("1", as_="bob")
    async with bot.services.db.session() as session:
        left = list(await session.scalars(select(MeetingItem)))
    assert [(i.kind, i.owner, i.status) for i in left] == [("action", [], "declined")]


async def test_action_reminders_survive_a_restart_and_arrive_once(tmp_path, database_url):
    clock = FakeClock(__import__("tests.harness", fromlist=["START"]).START)
    bot = await make_bot(tmp_path, database_url, clock=clock, admins=["console:alice"])
    await everyone(bot)
    await meeting(bot)
    for who in ("bob", "carol"):
        await bot.say(f"/action R1; @{who}; vendredi; Tâche de {who}", as_="alice")
        await bot.say("1", as_="alice")
    clock.advance(timedelta(days=3))  # Thursday 10:00: both reminders are due
    # The bot queued them and died before delivering (no transport attached).
    assert await bot.services.meetings.run_due() == 2
    await bot.close()
    for _restart in range(2):
        bot = await make_bot(tmp_path, database_url, clock=clock, admins=["console:alice"])
        inbox = RecordingTransport()
        bot.services.transports.add(inbox)
        await bot.services.meetings.run_due()
        await bot.services.outbox.deliver_pending()
        if _restart == 0:
            assert sorted(inbox.chats()) == ["bob", "carol"]
            assert all("Tâche de" in t for t in inbox.texts())
        else:
            assert inbox.texts() == []
        await bot.close()
    async with bot.services.db.session() as session:
        keys = list(await session.scalars(select(OutboxMessage.idempotency_key).where(
            OutboxMessage.idempotency_key.like("act:%:due:%"))))
    assert len(keys) == 2


async def test_an_owner_answers_the_action_message_by_number_or_in_words(bot):
    await everyone(bot)
    await meeting(bot)
    await bot.say("/lang nl", as_="bob")
    await bot.say("/action R1; @bob; vendredi; Lijst bezorgen", as_="alice")
    await bot.say("1", as_="alice")
    assert "Tegen wanneer" in await bot.ask("2", as_="bob")
    assert "vr 20 mrt 2026" in await bot.ask("vrijdag 20 maart", as_="bob")
    await bot.say("/action R1; @bob; vendredi; Cijfers sturen", as_="alice")
    await bot.say("1", as_="alice")
    # Two actions wait for an answer: the bot asks which one "gedaan" is about.
    [which] = await bot.say("Gedaan", as_="bob")
    assert [c.label for c in which.choices] == ["Actie A1: Lijst bezorgen",
                                                "Actie A2: Cijfers sturen"]
    assert "actie A2 is klaar" in await bot.ask("2", as_="bob")
    assert "actie A1 is klaar" in await bot.ask("Gedaan", as_="bob")  # one left: no question
    async with bot.services.db.session() as session:
        statuses = list(await session.scalars(select(MeetingItem.status)))
    assert statuses == ["done", "done"]


async def test_the_meeting_owner_gets_a_weekly_digest_of_open_actions(bot, inbox):
    await everyone(bot)
    await meeting(bot)
    await bot.say("/lang fr", as_="alice")
    await bot.say("/action R1; @bob; vendredi; Envoyer le rapport", as_="alice")
    await bot.say("1", as_="alice")
    await bot.services.meetings.run_due()
    assert inbox.to("alice") == []  # recorded this week: nothing to digest yet
    bot.clock.advance(timedelta(days=7))  # Monday 9 March, 10:00
    await bot.services.meetings.run_due()
    await bot.services.meetings.run_due()
    [digest] = [t for t in inbox.to("alice") if "cette semaine" in t]
    assert "Envoyer le rapport" in digest and "en retard" in digest
    inbox.clear()
    await bot.say("/done A1", as_="bob")
    bot.clock.advance(timedelta(days=7))
    await bot.services.meetings.run_due()
    assert inbox.to("alice") == []  # nothing open, no digest


async def test_an_owner_whose_role_was_lowered_gives_actions_only_to_themselves(bot):
    await everyone(bot)
    await bot.say("/role carol coordinator", as_="alice")
    await bot.say("/meeting chaque premier mardi du mois à 10h; Coordination; @bob, @carol",
                  as_="carol")
    assert "R1" in await bot.ask("1", as_="carol")
    await bot.say("/action R1; @bob; vendredi; Rapport", as_="carol")  # a preview waits
    await bot.say("/role carol staff", as_="alice")
    assert "role has changed" in await bot.ask("1", as_="carol")
    assert "Only coordinators can give actions to others" in await bot.ask(
        "/action R1; @bob; vendredi; Rapport", as_="carol")
    assert await count(bot) == 0
    await bot.say("/action R1; @carol; vendredi; Mon rapport", as_="carol")
    assert "A1" in await bot.ask("1", as_="carol")


async def test_the_agenda_has_a_limit(bot):
    await everyone(bot)
    await meeting(bot)
    for number in range(50):
        await bot.say(f"/agenda R1; point {number}", as_="bob")
    assert "full" in await bot.ask("/agenda R1; one more", as_="bob")
    assert await count(bot) == 50


async def test_only_its_owners_and_the_recorders_side_close_an_action(bot):
    await everyone(bot)
    await meeting(bot)
    await bot.say("/action R1; @bob; vendredi; Rapport", as_="alice")
    await bot.say("1", as_="alice")
    for word in ("/done A1", "/notmine A1", "/later A1 lundi", "/reassign A1; @dirk"):
        reply = await bot.ask(word, as_="dirk")
        assert "no action A1" in reply or "not available" in reply, (word, reply)
    assert "no action A1" in await bot.ask("/done A1", as_="carol")  # a participant, not owner
    async with bot.services.db.session() as session:
        [item] = list(await session.scalars(select(MeetingItem)))
    assert (item.status, item.owner, item.due_at.day) == ("open", [item.owner[0]], 6)
    assert "is done" in await bot.ask("/done A1", as_="bob")
