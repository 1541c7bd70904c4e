"""Reminders and broadcasts as people use them: preview, confirm, delivery, late delivery,
acknowledgements, managing, calendar. The clock is a FakeClock (Monday 2 March 2026, 10:00 in
Brussels); `run_due()` is what the scheduler calls."""
from datetime import timedelta

from bot.outbox import OutboxMessage
from bot.reminders.models import Acknowledgement, Schedule
from tests.harness import make_bot
from tests.harness import RecordingTransport


async def create(bot, command: str, as_: str = "alice", **kwargs) -> str:
    [preview] = await bot.say(command, as_=as_, **kwargs)
    assert [c.value for c in preview.choices] == ["yes", "no"], preview.text
    return await bot.ask("1", as_=as_, **kwargs)


async def test_a_reminder_is_previewed_confirmed_and_delivered_once(bot, inbox):
    preview = await bot.ask("/remind in 2 minutes; Call the CPAS", as_="bob")
    assert "Call the CPAS" in preview and "Mon 2 Mar 2026, 10:02" in preview
    assert await bot.count(Schedule) == 0  # nothing saved before Confirm
    assert "Saved as R1" in await bot.ask("1", as_="bob")
    bot.clock.advance(timedelta(minutes=1))
    await bot.services.reminders.run_due()
    assert inbox.texts() == []
    bot.clock.advance(timedelta(minutes=1))
    await bot.services.reminders.run_due()
    await bot.services.reminders.run_due()
    assert inbox.texts("console:bob") == ["Call the CPAS"]
    assert "No reminders" in await bot.ask("/reminders", as_="bob")


async def test_cancel_at_the_preview_saves_nothing(bot):
    await bot.ask("/remind tomorrow 9:00; x", as_="bob")
    assert "nothing was saved" in await bot.ask("2", as_="bob")
    assert await bot.count(Schedule) == 0


async def test_unclear_answer_keeps_the_preview_pending(bot):
    await bot.ask("/remind tomorrow 9:00; x", as_="bob")
    assert "1 to confirm or 2 to cancel" in await bot.ask("maybe", as_="bob")
    assert "Saved as" in await bot.ask("oui", as_="bob")


async def test_bad_input_gets_a_translated_answer_and_saves_nothing(bot):
    await bot.say("/lang fr", as_="bob")
    assert "comprendre" in await bot.ask("/remind blabla; x", as_="bob")
    assert "passé" in await bot.ask("/remind 1/1/2020 10:00; x", as_="bob")
    assert "trop souvent" in await bot.ask("/remind every 2 minutes; x", as_="bob")
    assert "coordinat" in await bot.ask("/remind demain 9h; x; all", as_="bob")
    assert "Usage" in await bot.ask("/remind demain", as_="bob") or \
        "Utilisation" in await bot.ask("/remind demain", as_="bob")
    assert await bot.count(Schedule) == 0


async def test_guests_may_remind_only_themselves(bot):
    await bot.say("/whoami", as_="carol")
    assert "Only coordinators" in await bot.ask("/remind tomorrow 9:00; x; @carol", as_="bob")
    assert "Only coordinators" in await bot.ask("/remind tomorrow 9:00; x", as_="bob",
                                                chat="group-1")
    assert "not available to you" in await bot.ask("/meeting tomorrow 9:00; x", as_="bob")
    assert "Only coordinators" in await bot.ask("/remind tomorrow 9:00; x; role:guest", as_="bob")
    assert "Only coordinators" in await bot.ask("/remind tomorrow 9:00; x; area:BE-WLG",
                                                as_="bob")
    assert await bot.count(Schedule) == 0


async def test_late_reminder_says_so_and_old_ones_are_listed_to_the_owner(bot, inbox):
    await create(bot, "/remind in 2 minutes; Soon", as_="bob")
    await create(bot, "/remind tomorrow 9:00; Much later", as_="bob")
    bot.clock.advance(timedelta(hours=2))  # the bot was down
    await bot.services.reminders.run_due()
    assert inbox.texts("console:bob") == ["Soon (late: due at 10:02)"]
    inbox.clear()
    bot.clock.advance(timedelta(days=1, hours=6))  # far past the 6 h grace period
    await bot.services.reminders.run_due()
    [missed] = inbox.texts("console:bob")
    assert "offline" in missed and "R2 Much later" in missed and "Tue 3 Mar 2026, 09:00" in missed


async def test_late_mark_is_in_the_recipients_language(bot, inbox):
    await bot.say("/lang nl", as_="bob")
    await create(bot, "/remind over 2 minuten; Bel het OCMW", as_="bob")
    bot.clock.advance(timedelta(hours=1))
    await bot.services.reminders.run_due()
    assert inbox.texts("console:bob") == ["Bel het OCMW (te laat: gepland om 10:02)"]


async def test_a_second_bot_on_the_same_database_never_duplicates(tmp_path, database_url, bot,
                                                                 inbox):
    await create(bot, "/remind in 2 minutes; Once", as_="bob")
    other = await make_bot(tmp_path / "other", database_url, clock=bot.clock)
    other_inbox = RecordingTransport()
    other.services.transports.add(other_inbox)
    try:
        bot.clock.advance(timedelta(minutes=10))
        await other.services.reminders.run_due()
        await bot.services.reminders.run_due()
        await other.services.reminders.run_due()
    finally:
        await other.close()
    assert inbox.texts() + other_inbox.texts() == ["Once (late: due at 10:02)"]
    assert await bot.count(OutboxMessage) == 1


async def test_meeting_for_others_with_attendance_answers(bot, inbox):
    await bot.say("/whoami", as_="bob")
    await bot.say("/lang fr", as_="carol")
    saved = await create(bot, "/meeting in 1 hour, 30 minutes before; Coordination; @bob, @carol")
    assert "Saved as R1" in saved
    bot.clock.advance(timedelta(minutes=30))
    await bot.services.reminders.run_due()
    [(_, to_bob)] = [(k, r) for k, r in inbox.sent if k == "console:bob"]
    assert to_bob.plain().startswith("Coordination\nComing up in 30 minutes")
    assert [c.label for c in to_bob.choices] == ["I'll attend", "Can't attend"]
    [to_carol] = [r for k, r in inbox.sent if k == "console:carol"]
    assert "Je serai là" in [c.label for c in to_carol.choices]
    assert "noted" in await bot.ask("1", as_="bob")  # the console answers by number
    assert "noté" in await bot.ask(to_carol.choices[1].value, as_="carol")  # a button press
    answers = await bot.ask("/acks R1", as_="alice")
    assert "1 will attend: bob" in answers and "1 cannot attend: carol" in answers
    assert "no active reminder" in await bot.ask("/acks R1", as_="bob")
    assert await bot.count(Acknowledgement) == 2


async def test_number_after_a_reminder_without_choices_is_not_swallowed(bot, inbox):
    await create(bot, "/deadline in 5 minutes; Monthly figures")
    bot.clock.advance(timedelta(minutes=5))
    await bot.services.reminders.run_due()
    [delivered] = [r for k, r in inbox.sent if k == "console:alice"]
    assert [c.label for c in delivered.choices] == ["Done"]
    # A search, not an answer to the reminder.
    assert "found nothing useful" in await bot.ask("housing", as_="alice")
    assert "not available yet" not in await bot.ask("/reminders", as_="alice")


async def test_list_skip_edit_cancel(bot, inbox):
    await create(bot, "/meeting every 2 weeks on Tuesday at 10:00; Team meeting")
    listing = await bot.ask("/reminders", as_="alice")
    assert "R1" in listing and "Team meeting — Tue 3 Mar 2026, 10:00" in listing
    assert "Next: Tue 17 Mar 2026, 10:00" in await bot.ask("/skip R1", as_="alice")
    bot.clock.advance(timedelta(days=1, hours=1))
    await bot.services.reminders.run_due()
    assert inbox.texts() == []  # the skipped Tuesday sends nothing
    await bot.ask("/edit R1; -; Team meeting (room 2)", as_="alice")
    assert "Saved as R1" in await bot.ask("1", as_="alice")
    assert "room 2" in await bot.ask("/reminders", as_="alice")
    assert "no active reminder" in await bot.ask("/cancel R1", as_="bob")
    assert "cancelled" in await bot.ask("/cancel r1", as_="alice")
    assert "No reminders" in await bot.ask("/reminders", as_="alice")


async def test_broadcast_preview_confirm_and_delivery_report(bot, inbox):
    for name in ("bob", "carol"):
        await bot.say("/whoami", as_=name)
    await bot.say("/lang de", as_="carol")
    assert "not available to you" in await bot.ask("/broadcast all; Hi", as_="bob")
    preview = await bot.ask("/broadcast role:guest; Office closed on Friday", as_="alice")
    assert "2 recipients: bob, carol." in preview and inbox.sent == []
    assert "B1" in await bot.ask("1", as_="alice")
    assert inbox.texts("console:bob") == ["Message from alice:\nOffice closed on Friday"]
    assert inbox.texts("console:carol") == ["Nachricht von alice:\nOffice closed on Friday"]
    assert inbox.texts("console:alice") == ["Broadcast B1: 2 sent, 0 failed."]


async def test_calendar_has_the_recurrence(bot):
    await create(bot, "/meeting tous les 2e mardis du mois à 10h; Réunion", lang="fr")
    await create(bot, "/remind tomorrow 9:00; just a note")
    [reply] = await bot.say("/calendar", as_="alice")
    ics = reply.attachment.content.decode()
    assert reply.attachment.filename.endswith(".ics")
    assert "RRULE:FREQ=MONTHLY;INTERVAL=1;BYDAY=+2TU" in ics and "SUMMARY:Réunion" in ics
    assert "TZID=Europe/Brussels" in ics and "just a note" not in ics


async def test_answers_to_a_finished_one_off_meeting_can_still_be_read(bot, inbox):
    await bot.say("/whoami", as_="bob")
    await create(bot, "/meeting in 5 minutes; Site visit; @bob")
    bot.clock.advance(timedelta(minutes=5))
    await bot.services.reminders.run_due()
    assert "noted" in await bot.ask("1", as_="bob")   # the meeting is over: R1 is inactive
    assert "1 will attend: bob" in await bot.ask("/acks R1", as_="alice")
    assert "no active reminder" in await bot.ask("/cancel R1", as_="alice")
