"""`area:` audiences and regions from the directory: a round for `area:CODE` asks the focal
points whose directory entry lies in the area; people the directory does not place count by
the region of their latest answer; results break non-responders down by directory region."""
from __future__ import annotations

from tests.checkins.conftest import deliver, register
from tests.places import link, load_directory


async def open_round(bot, audience: str, form: str = "weekly_local") -> str:
    preview = await bot.ask(f"/rounds open {form}; 2026-03-06 17:00; {audience}", as_="alice",
                            chat="coord")
    if "?" not in preview:
        return preview
    answer = await bot.ask("1", as_="alice", chat="coord")
    await deliver(bot)
    return answer


async def placed_focal_points(bot) -> None:
    await load_directory(bot)
    await register(bot, ["liege", "eupen", "gent", "forem", "fed"])
    await link(bot, "liege", entry_id="cpas-liege")
    await link(bot, "eupen", organisation_id="cpas-eupen")
    await link(bot, "gent", entry_id="ocmw-gent")
    await link(bot, "forem", entry_id="forem")
    await link(bot, "fed", entry_id="fedasil")


async def test_a_round_for_a_province_asks_the_focal_points_based_there(checkin_bot):
    bot = checkin_bot
    await placed_focal_points(bot)
    await open_round(bot, "area:BE-WLG")
    assert bot.transport.chats() == {"liege", "eupen", "fed"}  # Fedasil covers the province
    bot.transport.clear()
    await open_round(bot, "area:DG, area:40000")
    assert bot.transport.chats() == {"eupen", "gent", "fed"}


async def test_an_unknown_area_is_refused(checkin_bot):
    bot = checkin_bot
    await placed_focal_points(bot)
    answer = await open_round(bot, "area:BE-XYZ")
    assert "Unknown area code" in answer and "BE-XYZ" in answer
    assert bot.transport.chats() == set()


async def test_people_the_directory_does_not_place_count_by_their_last_answer(checkin_bot):
    bot = checkin_bot
    await placed_focal_points(bot)
    await register(bot, ["fiona", "gust"])
    await link(bot, "gust", entry_id="ocmw-gent")  # the directory places gust in Gent
    await open_round(bot, "@fiona, @gust", form="monthly_regional")
    for name in ("fiona", "gust"):  # both report for Wallonia
        for text in ["3", "2026-03-01", "100", "10", "20", "/skip", "1", "ok"]:
            await bot.say(text, as_=name)
        assert "recorded" in await bot.ask("1", as_=name)
    bot.transport.clear()
    await open_round(bot, "area:BE-WAL")
    assert bot.transport.chats() == {"liege", "eupen", "forem", "fiona", "fed"}


async def test_results_break_non_responders_down_by_directory_region(checkin_bot):
    bot = checkin_bot
    await placed_focal_points(bot)
    await open_round(bot, "@liege, @eupen, @gent, @fed")
    summary = (await bot.say("/results weekly_local", as_="alice"))[0].plain()
    # Provinces are the form's region choices; a national service fits none of them.
    assert "By region: region unknown 0/1; East Flanders 0/1; Liège 0/2" in summary
