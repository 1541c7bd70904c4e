"""Someone with no language set, on a platform that gives no hint, gets a directory answer in
the language their question is written in, when the search recognises it."""
from tests.places import load_directory


async def test_a_dutch_question_is_answered_in_dutch(bot):
    await load_directory(bot)
    text = await bot.ask("wie helpt met leefloon in 9000", as_="bob")
    assert "bij wie kunt u terecht" in text and "OCMW Gent" in text
    assert "Gebied:" in text  # the entry's labels too, not only the first line


async def test_a_french_question_is_answered_in_french(bot):
    await load_directory(bot)
    text = await bot.ask("qui s'occupe de l'aide sociale à Liège", as_="bob")
    assert "CPAS de Liège" in text and "Zone" in text and "Area:" not in text


async def test_a_chosen_language_or_a_platform_hint_wins(bot):
    await load_directory(bot)
    hinted = await bot.ask("wie helpt met leefloon in 9000", as_="bob", lang="en")
    assert "Who handles" in hinted and "Area:" in hinted
    await bot.say("/lang de", as_="carol")
    chosen = await bot.ask("wie helpt met leefloon in 9000", as_="carol")
    assert "Gebiet" in chosen and "Gebied:" not in chosen


async def test_an_undetectable_language_falls_back_to_the_default(bot):
    await load_directory(bot)
    text = await bot.ask("9000", as_="bob")
    assert "Local services for" in text
