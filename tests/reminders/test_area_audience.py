"""`area:CODE` audiences: a reminder or broadcast reaches the people whose directory entry
lies in the area or covers all of it (commands.md: "a person is in a place when their
organisation's entry covers it or lies in it"; linked entry, else an organisation id that
names an entry)."""
from datetime import timedelta

from tests.places import link, load_directory


async def people_in_places(bot) -> None:
    await load_directory(bot)
    for name in ("liege", "eupen", "gent", "forem", "fed", "orgonly", "nobody"):
        await bot.say("/start", as_=name)
    await link(bot, "liege", entry_id="cpas-liege")
    await link(bot, "eupen", entry_id="cpas-eupen")
    await link(bot, "gent", entry_id="ocmw-gent")
    await link(bot, "forem", entry_id="forem")
    await link(bot, "fed", entry_id="fedasil")
    await link(bot, "orgonly", organisation_id="cpas-liege")  # no entry link: the org places them


async def broadcast_to(bot, inbox, audience: str) -> set[str]:
    [preview] = await bot.say(f"/broadcast {audience}; Meeting moved", as_="alice")
    if not preview.choices:
        return set()
    await bot.ask("1", as_="alice")
    await bot.services.outbox.deliver_pending()
    chats = {key.split(":", 1)[1] for key, reply in inbox.sent if "Meeting moved" in reply.text}
    inbox.clear()
    return chats


async def test_a_broadcast_by_province_reaches_the_people_based_there(bot, inbox):
    await people_in_places(bot)
    # Fedasil covers all of Belgium, so all of the province; Forem covers Wallonia without
    # the German-speaking Community, so neither all of Liège province nor only it.
    assert await broadcast_to(bot, inbox, "area:BE-WLG") == {"liege", "eupen", "orgonly", "fed"}


async def test_area_codes_in_every_accepted_form(bot, inbox):
    await people_in_places(bot)
    # Liège city: its CPAS lies in it; Forem and Fedasil cover it.
    assert await broadcast_to(bot, inbox, "area:62063") == {"liege", "orgonly", "forem", "fed"}
    assert await broadcast_to(bot, inbox, "area:dg") == {"eupen", "fed"}
    # Forem covers Wallonia without the German-speaking Community: it lies in the region and
    # in the French Community; the national service covers them.
    assert await broadcast_to(bot, inbox, "area:BE-WAL") == {"liege", "eupen", "orgonly", "forem",
                                                             "fed"}
    assert await broadcast_to(bot, inbox, "area:FWB") == {"liege", "orgonly", "forem", "fed"}
    assert await broadcast_to(bot, inbox, "area:40000") == {"gent", "fed"}
    assert await broadcast_to(bot, inbox, "area:BE") == {"liege", "eupen", "gent", "forem", "fed",
                                                         "orgonly"}


async def test_the_preview_names_the_area(bot, inbox):
    await people_in_places(bot)
    preview = await bot.ask("/broadcast area:BE-WLG; hello", as_="alice")
    assert "everyone based in Province of Liège" in preview
    await bot.say("2", as_="alice")
    await bot.say("/lang nl", as_="alice")
    assert "Luik" in await bot.ask("/broadcast area:BE-WLG; hallo", as_="alice")


async def test_an_unknown_area_code_is_refused_with_an_explanation(bot):
    await people_in_places(bot)
    answer = await bot.ask("/broadcast area:BE-XYZ; hello", as_="alice")
    assert "Unknown area code" in answer and "BE-XYZ" in answer


async def test_a_recurring_reminder_follows_the_directory_at_each_occurrence(bot, inbox):
    await people_in_places(bot)
    preview = await bot.ask("/remind every day at 11:00; Report figures; area:BE-WLG", as_="alice")
    assert "everyone based in Province of Liège" in preview
    assert "Saved as" in await bot.ask("1", as_="alice")
    bot.clock.advance(timedelta(hours=2))
    await bot.services.reminders.run_due()
    await bot.services.outbox.deliver_pending()
    assert {key for key, _r in inbox.sent} == {"console:liege", "console:eupen", "console:orgonly",
                                               "console:fed"}
    inbox.clear()
    await link(bot, "gent", entry_id="cpas-liege")  # moved to Liège: included next time
    await link(bot, "eupen", entry_id="ocmw-gent")  # moved away: not any more
    bot.clock.advance(timedelta(days=1))
    await bot.services.reminders.run_due()
    await bot.services.outbox.deliver_pending()
    assert {key for key, _r in inbox.sent} == {"console:liege", "console:gent", "console:orgonly",
                                               "console:fed"}
