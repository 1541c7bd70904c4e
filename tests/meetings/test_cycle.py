"""A monthly coordination meeting from agenda to follow-up, in French and in Dutch. The clock
starts on Monday 2 March 2026, 10:00 in Brussels; the meeting is every first Tuesday at 10:00."""
from datetime import timedelta

from sqlalchemy import select

from bot.meetings.models import MeetingItem
from bot.outbox import OutboxMessage
from bot.trust.models import AuditEntry
from tests.places import ROWS, link, load_directory

NAMUR = "cpas-namur,CPAS de Namur,cpas,Aide sociale,social_aid,92094,fr,,,active,"


async def setup_people(bot, lang: str) -> None:
    """alice coordinates; marie works at the CPAS de Namur; bob and jan take part."""
    await load_directory(bot, ROWS + [NAMUR])
    for name in ("alice", "marie", "bob", "jan"):
        await bot.say(f"/lang {lang}", as_=name)
    await link(bot, "marie", entry_id="cpas-namur")


async def confirm(bot, command: str, as_: str = "alice") -> str:
    [preview] = await bot.say(command, as_=as_)
    assert [c.value for c in preview.choices] == ["yes", "no"], preview.text
    return await bot.ask("1", as_=as_)


async def items(bot, kind: str) -> list[MeetingItem]:
    async with bot.services.db.session() as session:
        return list(await session.scalars(select(MeetingItem).where(MeetingItem.kind == kind)
                                          .order_by(MeetingItem.id)))


async def run(bot) -> None:
    await bot.services.reminders.run_due()
    await bot.services.meetings.run_due()


async def test_a_full_cycle_in_french(bot, inbox):
    await setup_people(bot, "fr")
    saved = await confirm(bot, "/meeting chaque premier mardi du mois à 10h; Coordination "
                               "Namur; @alice, @bob et @marie")
    assert "R1" in saved
    assert "Ajouté à l’ordre du jour" in await bot.ask("/agenda R1; Logement des familles",
                                                       as_="bob")
    assert "Logement des familles" in await bot.ask("/agenda R1", as_="alice")
    # The meeting reminder carries the agenda.
    bot.clock.advance(timedelta(days=1))
    await run(bot)
    [reminder] = inbox.to("bob")
    assert "Ordre du jour" in reminder and "1. Logement des familles" in reminder
    inbox.clear()
    bot.clock.advance(timedelta(hours=1))
    assert "Décision enregistrée" in await bot.ask("/decision R1; Ouvrir 20 places à Namur")
    preview = await bot.ask("/action R1; le CPAS de Namur; vendredi; Recenser les logements")
    assert "CPAS de Namur" in preview and "ven. 6 mars 2026" in preview
    assert "A3" in await bot.ask("1")
    [told] = inbox.to("marie")
    assert "Action A3" in told and "Recenser les logements" in told
    # The day-before reminder goes out once, then the overdue notice.
    inbox.clear()
    bot.clock.advance(timedelta(days=1, hours=23))  # Thursday 11:00
    await run(bot)
    await run(bot)
    [soon] = inbox.to("marie")
    assert "bientôt" in soon
    inbox.clear()
    # Need more time: the bot asks for a new date, a wrong one is asked again.
    assert "date" in await bot.ask("/later A3", as_="marie")
    assert "comprendre « blabla »" in await bot.ask("blabla", as_="marie")
    assert "mer. 11 mars 2026" in await bot.ask("mercredi prochain", as_="marie")
    bot.clock.advance(timedelta(days=1))
    await run(bot)
    assert inbox.to("marie") == []  # a reminder for the new date, not the old one
    bot.clock.advance(timedelta(days=5))  # Wednesday 11 March, 11:00: due tonight
    await run(bot)
    assert ["bientôt" in t for t in inbox.to("marie")] == [True]
    inbox.clear()
    bot.clock.advance(timedelta(days=1))
    await run(bot)
    [late] = inbox.to("marie")
    assert "en retard" in late
    assert "Recenser les logements" in await bot.ask("/actions", as_="marie")
    assert "terminée" in await bot.ask("/done A3", as_="marie")
    assert "aucune action" in (await bot.ask("/actions", as_="marie")).lower()
    # Minutes of the meeting, as Markdown and Word.
    replies = await bot.say("/minutes R1")
    markdown = replies[0].attachment.content.decode("utf-8")
    assert "Procès-verbal" in markdown and "Ouvrir 20 places à Namur" in markdown
    assert "Recenser les logements" in markdown and "CPAS de Namur" in markdown
    assert replies[1].attachment.filename.endswith(".docx")
    async with bot.services.db.session() as session:
        actions = [a.action for a in await session.scalars(select(AuditEntry))]
    assert "meetings.action_create" in actions and "meetings.action_close" in actions


async def test_a_full_cycle_in_dutch(bot, inbox):
    await setup_people(bot, "nl")
    await confirm(bot, "/meeting elke eerste dinsdag van de maand om 10u; Overleg Namen; "
                       "@alice, @jan en @marie")
    bot.clock.advance(timedelta(days=1, hours=1))
    await run(bot)
    inbox.clear()
    assert "Beslissing" in await bot.ask("/decision R1; Twintig plaatsen openen")
    await confirm(bot, "/action R1; @jan; over twee weken; Verslag sturen")
    await confirm(bot, "/action R1; le CPAS de Namur; vrijdag; Woningen tellen")
    preview = await bot.ask("/action R1; @jan; voor de volgende vergadering; Lijst nakijken")
    assert "di 7 apr 2026, 10:00" in preview, preview
    await bot.say("2")
    [told] = inbox.to("jan")
    assert "Actie A2" in told and "Verslag sturen" in told
    assert [c.label for c in (await _last(bot, "jan")).choices] == [
        "Gedaan", "Meer tijd nodig", "Niet van mij"]
    assert "niet voor u" in await bot.ask("/notmine A2", as_="jan")
    await bot.services.outbox.deliver_pending()
    back = inbox.to("alice")
    assert any("A2" in t and "reassign" in t for t in back), back
    assert "A2" in await bot.ask("/reassign A2; @marie")
    # The next meeting's reminder lists the open actions.
    inbox.clear()
    bot.clock.advance(timedelta(days=35))
    await run(bot)
    reminder = next(t for t in inbox.to("jan") if "Overleg Namen" in t)
    assert "Woningen tellen" in reminder and "Verslag sturen" in reminder
    markdown = (await bot.say("/minutes R1 3/3"))[0].attachment.content.decode("utf-8")
    assert "Twintig plaatsen openen" in markdown and "Woningen tellen" in markdown


async def _last(bot, name: str):
    async with bot.services.db.session() as session:
        row = await session.scalar(select(OutboxMessage).where(
            OutboxMessage.chat_key == f"console:{name}").order_by(OutboxMessage.id.desc()))
    return row.reply()


async def test_guided_mode_asks_one_question_at_a_time(bot, inbox):
    await setup_people(bot, "fr")
    await confirm(bot, "/meeting chaque premier mardi du mois à 10h; Coordination Namur; "
                       "@alice, @bob et @marie")
    assert "Qui s’en charge" in await bot.ask("/action R1")
    [unclear] = await bot.say("le CPAS de Namr")
    assert "CPAS de Namur" in [c.label for c in unclear.choices]
    number = [c.label for c in unclear.choices].index("CPAS de Namur") + 1
    assert "Pour quand" in await bot.ask(str(number))
    assert "comprendre « bientôt »" in await bot.ask("bientôt")
    assert "Que faut-il faire" in await bot.ask("avant la prochaine réunion")
    preview = await bot.ask("Recenser les logements; puis appeler Fedasil")
    assert "CPAS de Namur" in preview and "mar. 7 avr. 2026, 10:00" in preview
    assert "Recenser les logements; puis appeler Fedasil" in preview
    assert "A1" in await bot.ask("1")
    assert "Recenser les logements" in inbox.to("marie")[0]
