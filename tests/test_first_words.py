"""Language from the first word: a newcomer is answered in the language they write in, and that
language is kept until they choose one with /lang. Greetings, thanks and help words in the five
languages get a short welcome with example questions, not a failed directory search; help words
typed as commands get the help; a guest's /help is short, the full list is behind /help all.
Every reply of these conversations is checked against the English catalogue."""
from __future__ import annotations

import pytest

from tests.english import english_in
from tests.harness import make_bot
from tests.trust.helpers import code_in

NOTHING_FOUND = ("nothing useful", "rien trouvé", "niets bruikbaars", "nichts Passendes")


def _bullets(text: str) -> int:
    return sum(1 for line in text.splitlines() if line.lstrip().startswith("•"))


async def _conversation(bot, name: str, texts: list[str]) -> list[str]:
    return [await bot.ask(text, as_=name) for text in texts]


async def test_a_french_newcomer_is_answered_in_french_throughout(bot):
    replies = await _conversation(bot, "margaux", ["bonjour", "/help", "merci", "/help all",
                                                  "/whoami", "aide"])
    greeting, short_help, thanks, full_help, whoami, help_word = replies
    assert "Bonjour" in greeting and "/help" in greeting
    assert not any(word in greeting for word in NOTHING_FOUND)
    assert greeting.count("«") >= 2 or greeting.count("\"") >= 4  # two example questions
    assert _bullets(short_help) <= 5 and "/help all" in short_help and "/audit" not in short_help
    assert "/whoami" in full_help and "/mydata" in full_help and _bullets(full_help) > 8
    assert "Rôle" in whoami
    assert "/lang" in help_word
    for reply in replies:
        assert not english_in(reply, "fr"), (reply, english_in(reply, "fr"))


async def test_a_dutch_newcomer_is_answered_in_dutch_throughout(bot):
    replies = await _conversation(bot, "joris", ["hallo", "hulp", "/help", "bedankt",
                                                 "goedemorgen", "/frobnicate"])
    greeting, help_word, short_help, thanks, morning, unknown = replies
    assert "Hallo" in greeting or "Dag" in greeting
    assert not any(word in greeting for word in NOTHING_FOUND)
    assert "/lang" in help_word and "/help all" in short_help
    assert "Onbekende opdracht" in unknown
    for reply in replies:
        assert not english_in(reply, "nl"), (reply, english_in(reply, "nl"))


@pytest.mark.parametrize("word, locale", [
    ("bonjour", "fr"), ("Bonsoir !", "fr"), ("merci beaucoup", "fr"), ("goedemorgen", "nl"),
    ("dank u wel", "nl"), ("hulp", "nl"), ("danke", "de"), ("Guten Tag", "de"), ("hilfe", "de"),
    ("привіт", "uk"), ("дякую", "uk"), ("thanks", "en"), ("hello", "en"), ("help", "en"),
    ("merci, au revoir", "fr"), ("tot ziens", "nl"), ("hallo, hulp", "nl"),
    ("до побачення", "uk"), ("Guten Morgen, vielen Dank!", "de"),
])
async def test_greetings_thanks_and_help_words_get_a_welcome_in_their_language(bot, word, locale):
    reply = await bot.ask(word, as_="newcomer")
    assert not any(text in reply for text in NOTHING_FOUND), reply
    assert "/help" in reply or "/lang" in reply
    if locale != "en":
        assert not english_in(reply, locale), (reply, english_in(reply, locale))
    whoami = await bot.ask("/whoami", as_="newcomer")
    expected = {"fr": "Langue", "nl": "Taal", "de": "Sprache", "uk": "Мова", "en": "Language"}
    assert expected[locale] in whoami


async def test_help_words_typed_as_commands_get_the_help(bot):
    aide = await bot.ask("/aide", as_="camille")
    assert "/lang" in aide and not english_in(aide, "fr")
    hulp = await bot.ask("/hulp", as_="wout")
    assert "/lang" in hulp and not english_in(hulp, "nl")
    hilfe = await bot.ask("!hilfe", as_="@jonas:example.org", platform="matrix")
    assert "!lang" in hilfe and not english_in(hilfe, "de")
    dopomoha = await bot.ask("/допомога", as_="oksana")
    assert "/lang" in dopomoha and not english_in(dopomoha, "uk")


async def test_the_language_is_kept_until_the_person_chooses_one(bot):
    assert "Bonjour" in await bot.ask("bonjour", as_="lea")
    # messages with no words of a language (commands, numbers) keep it
    for text in ("/whoami", "/help", "12", "/frobnicate"):
        reply = await bot.ask(text, as_="lea")
        assert not english_in(reply, "fr"), (text, reply)
    # someone who has not chosen is answered in the language they now write in
    assert "Dag" in await bot.ask("goedemorgen", as_="lea")
    assert "Taal" in await bot.ask("/whoami", as_="lea")
    await bot.ask("/lang nl", as_="lea")
    assert "Rol" in await bot.ask("/whoami", as_="lea")
    await bot.ask("bonjour", as_="lea")  # a chosen language is not replaced by a guess
    assert "Rol" in await bot.ask("/whoami", as_="lea")


async def test_a_platform_hint_still_wins_over_a_guess(bot):
    reply = await bot.ask("hallo", as_="sofie", lang="de")
    assert not english_in(reply, "de")
    assert "Sprache" in await bot.ask("/whoami", as_="sofie", lang="de")


async def test_the_welcome_after_start_code_follows_the_language_written_before(bot):
    invitation = await bot.ask("/invite focal_point ocmw-gent", as_="alice")
    code = code_in(invitation)
    first = await bot.ask("goedemorgen", as_="lotte")
    assert not english_in(first, "nl")
    welcome = await bot.ask(f"/start {code}", as_="lotte")
    assert "Welkom" in welcome and not english_in(welcome, "nl"), welcome
    short_help = await bot.ask("/help", as_="lotte")
    assert "/checkin" in short_help and not english_in(short_help, "nl")


async def test_the_flood_warning_is_in_the_language_written(tmp_path, database_url):
    bot = await make_bot(tmp_path, database_url, rate_limit_burst=2, rate_limit_per_minute=60)
    try:
        await bot.say("bonjour", as_="flo")
        await bot.say("bonjour", as_="flo")
        warning = await bot.ask("bonjour", as_="flo")
        assert warning and not english_in(warning, "fr"), warning
        assert "vite" in warning
    finally:
        await bot.close()


async def test_a_guest_help_is_short_and_the_rest_is_behind_help_all(bot):
    short = await bot.ask("/help", as_="gaston")
    assert _bullets(short) <= 5 and "/help all" in short
    assert "/mydata" not in short and "/calendar" not in short
    full = await bot.ask("/help all", as_="gaston")
    assert "/mydata" in full and "/calendar" in full and "/whoami" in full
    assert "/role" not in full


async def test_a_directory_question_sets_the_language_for_what_follows(bot):
    await bot.ask("wie helpt met leefloon in Gent", as_="an")
    assert "Taal" in await bot.ask("/whoami", as_="an")
    await bot.ask("je cherche un logement à Liège", as_="jean")
    assert "Langue" in await bot.ask("/whoami", as_="jean")


async def test_a_first_message_start_code_is_welcomed_in_the_inviters_language(bot):
    await bot.say("/whoami", as_="griet")
    await bot.say("/role griet coordinator", as_="alice")
    await bot.say("/lang nl", as_="griet")
    code = code_in(await bot.ask("/invite focal_point ocmw-brugge", as_="griet"))
    welcome = await bot.ask(f"/start {code}", as_="pieter")
    assert "Welkom" in welcome and not english_in(welcome, "nl"), welcome
    # what the newcomer then writes still decides
    assert "Bonjour" in await bot.ask("bonjour", as_="pieter")
