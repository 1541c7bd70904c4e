"""Translations. Every text the bot says goes through `_()`; the locale of the person being
answered lives in a context variable, so concurrent conversations never mix languages.

Catalogues are split by gettext *domain*, one per feature (`core`, `directory`, `reminders`,
`checkins`, and `when` for the time parser), under `locales/<ll>/LC_MESSAGES/<domain>.po`.
`Catalogues` merges them per locale.
"""
from __future__ import annotations

import gettext as _gettext
import io
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from collections.abc import Iterator

LOCALES = ("en", "fr", "nl", "de", "uk")
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "nl": "Nederlands", "de": "Deutsch",
                  "uk": "Українська"}
DOMAINS = ("core", "directory", "reminders", "checkins", "when", "web", "meetings", "devices")

# No catalogue in use (outside any `Catalogues.use`): the English source text.
_SOURCE_TEXT = _gettext.NullTranslations()
_translations: ContextVar[_gettext.NullTranslations | None] = ContextVar(
    "coordbot_translations", default=None)
_locale: ContextVar[str] = ContextVar("coordbot_locale", default="en")


def _(message: str) -> str:
    return (_translations.get() or _SOURCE_TEXT).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return (_translations.get() or _SOURCE_TEXT).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a string for extraction; it is translated later, where it is shown."""
    return message


def current_locale() -> str:
    return _locale.get()


def normalize_locale(value: str | None) -> str | None:
    """`fr-BE`, `nl_BE`, `UK` → `fr`, `nl`, `uk`; anything unsupported → None."""
    if not value:
        return None
    code = value.strip().replace("_", "-").split("-")[0].lower()
    if code == "ua":
        code = "uk"
    return code if code in LOCALES else None


class Catalogues:
    """The compiled catalogues of every domain, per locale, loaded once at start-up."""

    def __init__(self, locales_dir: Path):
        self.locales_dir = Path(locales_dir)
        self._by_locale = {code: self._load(code) for code in LOCALES}

    def _load(self, code: str) -> _gettext.NullTranslations:
        merged = _gettext.NullTranslations()
        for domain in DOMAINS:
            translations = self._load_domain(code, domain)
            if translations is not None:
                merged.add_fallback(translations)
        return merged

    def _load_domain(self, code: str, domain: str) -> _gettext.GNUTranslations | None:
        folder = self.locales_dir / code / "LC_MESSAGES"
        mo, po = folder / f"{domain}.mo", folder / f"{domain}.po"
        if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
            with mo.open("rb") as handle:
                return _gettext.GNUTranslations(handle)
        if po.exists():
            return _gettext.GNUTranslations(io.BytesIO(compile_po(po)))
        return None

    def get(self, code: str) -> _gettext.NullTranslations:
        return self._by_locale.get(code) or self._by_locale["en"]

    @contextmanager
    def use(self, code: str) -> Iterator[None]:
        """Runs a block in `code`'s language: `with catalogues.use("fr"): _("Help")`."""
        t_token = _translations.set(self.get(code))
        l_token = _locale.set(code if code in LOCALES else "en")
        try:
            yield
        finally:
            _translations.reset(t_token)
            _locale.reset(l_token)


def compile_po(po_path: Path) -> bytes:
    """Compiles a .po file in memory, for a checkout where `make` has not built the .mo yet."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po_path.open("rb") as handle:
        catalog = read_po(handle)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()
