from __future__ import annotations

from datetime import date

from sqlalchemy import update

from bot.directory.models import DirectoryEntry
from bot.messages import Attachment
from tests.directory.conftest import SAMPLE


async def load_sample(bot, content: bytes | None = None) -> None:
    directory = bot.services.directory
    async with bot.services.db.transaction() as session:
        report = await directory.import_file(session, content or SAMPLE.read_bytes(), replace=True)
        assert report.applied
    async with bot.services.db.session() as session:
        await directory.refresh(session)


async def promote(bot, name: str, role: str) -> None:
    await bot.say("/whoami", as_=name)
    await bot.say(f"/role {name} {role}", as_="alice")


async def test_who_answers_with_entry_contact_and_freshness(bot):
    await load_sample(bot)
    text = await bot.ask("/who housing 4000", as_="bob")
    assert "CPAS de Liège" in text and "cpas-liege" in text
    assert "Languages: fr" in text and "Not yet verified" in text
    assert "wal-swl" in text and "/more" not in text  # two answers only: no next page


async def test_plain_text_in_a_direct_chat_searches(bot):
    await load_sample(bot)
    assert "Arbeitsamt" in await bot.ask("Arbeit Eupen", as_="bob")
    # In a group, plain text not addressed to the bot is ignored.
    assert await bot.say("Arbeit Eupen", as_="bob", chat="group1") == []


async def test_answers_in_the_users_language(bot):
    await load_sample(bot)
    await bot.say("/lang fr", as_="bob")
    text = await bot.ask("/who logement Luik", as_="bob")
    assert "Qui s'occupe" in text or "Logement" in text
    assert "CPAS de Liège" in text


async def test_ambiguous_place_is_asked_back_and_the_number_answers(bot):
    await load_sample(bot)
    replies = await bot.say("/who CPAS Saint-Nicolas", as_="bob")
    assert len(replies[0].choices) == 2
    assert "Saint-Nicolas" in replies[0].text
    labels = [c.label for c in replies[0].choices]
    assert any("Liège" in label for label in labels)
    liege_number = next(i for i, c in enumerate(replies[0].choices, 1) if c.value == "62093")
    text = await bot.ask(str(liege_number), as_="bob")
    assert "cpas-saint-nicolas" in text and "ocmw-sint-niklaas" not in text


async def test_a_new_question_instead_of_a_choice_is_answered(bot):
    await load_sample(bot)
    await bot.say("logement 1050", as_="bob")
    assert "Arbeitsamt" in await bot.ask("Arbeit Eupen", as_="bob")


async def test_nothing_found_suggests_how_to_ask(bot):
    await load_sample(bot)
    text = await bot.ask("what will the weather be tomorrow?", as_="bob")
    assert "nothing useful" in text and "housing Liège" in text
    # With no language chosen, a French question gets the French suggestion.
    text = await bot.ask("quel temps fera-t-il demain ?", as_="bob")
    assert "rien trouvé d'utile" in text and "logement Liège" in text


async def test_more_pages_on(bot):
    await load_sample(bot)
    first = await bot.ask("/who coördinatie Hasselt", as_="bob")
    assert "prov-vli-gouverneur" in first
    second = await bot.ask("/more", as_="bob")
    assert "4." in second and "prov-vli-gouverneur" not in second
    assert "No more results" in await bot.ask("/more", as_="bob") or "7." in await bot.ask(
        "/more", as_="bob")
    assert "Ask me something first" in await bot.ask("/more", as_="carol")


async def test_entry_in_full_and_unknown_entry(bot):
    await load_sample(bot)
    text = await bot.ask("/entry wal-forem", as_="bob")
    assert "Le Forem" in text and "Status: active" in text and "except" in text
    assert "no entry" in await bot.ask("/entry nope", as_="bob")
    assert "Usage" in await bot.ask("/entry", as_="bob")


async def test_guests_see_public_channels_only(bot):
    content = (b"id,organisation,topics,coverage,contact_name,email,phone,url,matrix\n"
               b"x1,CPAS de Test,housing,62063,Jane Focal,jane@example.org,+32 4 000 00 00,"
               b"https://example.org,@jane:example.org\n")
    await load_sample(bot, content)
    guest = await bot.ask("/entry x1", as_="bob")
    assert "https://example.org" in guest
    assert "Jane" not in guest and "jane@" not in guest and "+32" not in guest
    await promote(bot, "carol", "staff")
    staff = await bot.ask("/entry x1", as_="carol")
    assert "Jane Focal" in staff and "jane@example.org" in staff and "@jane:example.org" in staff


async def test_old_verification_warns(bot):
    await load_sample(bot)
    async with bot.services.db.transaction() as session:
        await session.execute(update(DirectoryEntry).where(DirectoryEntry.id == "cpas-liege")
                              .values(last_verified=date(2025, 1, 10)))
    async with bot.services.db.session() as session:
        await bot.services.directory.refresh(session)
    text = await bot.ask("/entry cpas-liege", as_="bob")
    assert "Verified on 2025-01-10" in text and "over 6 months" in text


async def test_stale_lists_entries_for_coordinators(bot):
    await load_sample(bot)
    assert "not available to you" in await bot.ask("/stale", as_="bob")
    await promote(bot, "carol", "coordinator")
    text = await bot.ask("/stale", as_="carol")
    assert "not verified for 90 days" in text and "never verified" in text and "and" in text


async def test_import_and_export_in_chat(bot):
    await promote(bot, "carol", "coordinator")
    assert "attachment" in await bot.ask("/import", as_="carol")
    csv_file = Attachment("dir.csv", SAMPLE.read_bytes(), "text/csv")
    text = await bot.ask("/import replace", as_="carol", attachment=csv_file)
    assert "84 new" in text
    assert "CPAS de Liège" in await bot.ask("/who housing Jupille", as_="bob")
    bad = Attachment("bad.csv", b"id,organisation,topics,coverage\nz1,Org,flying,BE\n")
    text = await bot.ask("/import", as_="carol", attachment=bad)
    assert "nothing was changed" in text and "line 2" in text and "flying" in text
    replies = await bot.say("/export_directory", as_="carol")
    attachment = replies[0].attachment
    assert attachment.filename == "directory.csv"
    assert attachment.content.decode().splitlines()[1].startswith("#meta+id")
    assert "not available to you" in await bot.ask("/export_directory", as_="bob")
    assert "not available to you" in await bot.ask("/import", as_="bob", attachment=csv_file)
