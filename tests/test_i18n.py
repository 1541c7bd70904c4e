from bot.i18n import DOMAINS, LOCALES, Catalogues, _, current_locale, normalize_locale
from tools import i18n as i18n_tool


def test_every_message_id_is_translated_in_all_five_languages():
    gaps = [(domain, locale, msgid) for domain in DOMAINS
            for locale, msgid in i18n_tool.missing(domain)]
    assert not gaps, "missing translations:\n" + "\n".join(map(str, gaps[:50]))


def test_translations_are_not_copies_of_english():
    """Every language but English must translate most sentences, not repeat the source."""
    for domain in DOMAINS:
        template = i18n_tool.extract(domain)
        sentences = [m.id for m in template if isinstance(m.id, str) and len(m.id.split()) >= 4]
        for locale in ("fr", "nl", "de", "uk"):
            catalog = i18n_tool.read(i18n_tool.po_path(locale, domain), locale, domain)
            copies = [s for s in sentences if catalog.get(s) and catalog.get(s).string == s]
            assert len(copies) <= max(1, len(sentences) // 10), (domain, locale, copies[:5])


def test_locale_lives_in_a_context_variable(tmp_path):
    from pathlib import Path
    catalogues = Catalogues(Path(__file__).resolve().parent.parent / "locales")
    with catalogues.use("fr"):
        assert _("Usage: {usage}") == "Utilisation : {usage}"
        assert current_locale() == "fr"
        with catalogues.use("nl"):
            assert _("Usage: {usage}") == "Gebruik: {usage}"
        assert current_locale() == "fr"
    assert _("Usage: {usage}") == "Usage: {usage}"


def test_normalize_locale():
    assert normalize_locale("fr-BE") == "fr"
    assert normalize_locale("nl_BE") == "nl"
    assert normalize_locale("UA") == "uk"
    assert normalize_locale("es") is None
    assert normalize_locale(None) is None
    assert set(LOCALES) == {"en", "fr", "nl", "de", "uk"}


async def test_locale_resolution_order(tmp_path, database_url):
    from tests.harness import make_bot

    bot = await make_bot(tmp_path, database_url, default_locale="de")
    try:
        # no choice, no platform hint: the configured default
        assert "Unbekannter Befehl" in await bot.ask("/nope", as_="erik")
        # the platform's hint wins over the default
        assert "Commande inconnue" in await bot.ask("/nope", as_="fanny", lang="fr-BE")
        # the stored choice wins over the hint
        await bot.say("/lang nl", as_="fanny", lang="fr-BE")
        assert "Onbekende opdracht" in await bot.ask("/nope", as_="fanny", lang="fr-BE")
        # an unsupported hint falls back to the default
        assert "Unbekannter Befehl" in await bot.ask("/nope", as_="gil", lang="es")
    finally:
        await bot.close()


async def test_lang_command_validates(bot):
    assert "Unknown language" in await bot.ask("/lang xx", as_="bob")
    assert "Choose one of" in await bot.ask("/lang", as_="bob")
    assert "Мову змінено" in await bot.ask("/lang uk", as_="bob")
    assert "Роль: гість" in await bot.ask("/whoami", as_="bob")
