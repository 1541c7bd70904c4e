"""Translation catalogues: `python -m tools.i18n extract|compile|check`.

Each feature has its own gettext domain (see bot/i18n.py). `extract` scans the domain's source
files for `_()`, `N_()` and `ngettext()`, writes `locales/<domain>.pot` and merges it into every
locale's `.po` (new ids arrive untranslated; English gets the id itself). Translators then fill
the `msgstr`s; `check` lists what is still missing; `compile` writes the `.mo` files."""
from __future__ import annotations

import copy
import sys
from datetime import datetime, UTC
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES_DIR = ROOT / "locales"
LOCALES = ("en", "fr", "nl", "de", "uk")
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}

# Which source files feed which domain.
DOMAIN_SOURCES = {
    "core": ["bot/*.py", "bot/audience/*.py", "bot/handlers/core.py", "bot/handlers/trust.py",
             "bot/handlers/audience.py", "bot/transports/**/*.py",
             "bot/trust/**/*.py"],
    "directory": ["bot/directory/**/*.py", "bot/handlers/directory*.py"],
    "reminders": ["bot/reminders/**/*.py", "bot/handlers/reminders.py",
                  "bot/handlers/reminder_answers.py"],
    "checkins": ["bot/checkins/**/*.py", "bot/handlers/checkin_*.py"],
    "when": ["bot/when/**/*.py"],
    "web": ["bot/web/**/*.py", "bot/handlers/web.py"],
    "meetings": ["bot/meetings/**/*.py", "bot/handlers/meetings.py",
                 "bot/handlers/meeting_actions.py"],
    "devices": ["bot/devices/**/*.py", "bot/handlers/devices.py"],
}


def source_files(domain: str) -> list[Path]:
    files: set[Path] = set()
    for pattern in DOMAIN_SOURCES[domain]:
        files.update(p for p in ROOT.glob(pattern) if p.is_file())
    return sorted(files)


def extract(domain: str) -> Catalog:
    template = Catalog(project="coordbot", domain=domain,
                       creation_date=datetime(2026, 1, 1, tzinfo=UTC))
    for path in source_files(domain):
        for lineno, message, comments, context in extract_from_file(
                "python", str(path), keywords=KEYWORDS):
            template.add(message, locations=[(str(path.relative_to(ROOT)), lineno)],
                         auto_comments=comments, context=context)
    return template


def po_path(locale: str, domain: str) -> Path:
    return LOCALES_DIR / locale / "LC_MESSAGES" / f"{domain}.po"


def read(path: Path, locale: str, domain: str) -> Catalog:
    if path.exists():
        with path.open("rb") as handle:
            return read_po(handle, locale=locale, domain=domain)
    return Catalog(locale=locale, domain=domain, project="coordbot")


def write(path: Path, catalog: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, omit_header=False, sort_output=True,
                 include_lineno=False)


def update(domain: str) -> None:
    template = extract(domain)
    write(LOCALES_DIR / f"{domain}.pot", template)
    for locale in LOCALES:
        path = po_path(locale, domain)
        catalog = read(path, locale, domain)
        catalog.update(copy.deepcopy(template), no_fuzzy_matching=True)
        catalog.obsolete.clear()
        catalog.fuzzy = False
        if locale == "en":
            for message in catalog:
                if message.id and not message.string:
                    message.string = message.id
        write(path, catalog)


def missing(domain: str) -> list[tuple[str, str]]:
    """(locale, msgid) pairs with no translation, for ids the code uses today."""
    template = extract(domain)
    gaps = []
    for locale in LOCALES:
        catalog = read(po_path(locale, domain), locale, domain)
        for message in template:
            if not message.id:
                continue
            found = catalog.get(message.id)
            strings = found.string if found else None
            if isinstance(strings, tuple):
                empty = not all(strings)
            else:
                empty = not strings
            if found is None or empty or found.fuzzy:
                gaps.append((locale, message.id if isinstance(message.id, str) else message.id[0]))
    return gaps


def compile_all() -> None:
    for path in LOCALES_DIR.glob("*/LC_MESSAGES/*.po"):
        locale = path.parent.parent.name
        catalog = read(path, locale, path.stem)
        with path.with_suffix(".mo").open("wb") as handle:
            write_mo(handle, catalog)


def main(argv: list[str]) -> int:
    action = argv[0] if argv else "check"
    domains = argv[1:] or list(DOMAIN_SOURCES)
    if action == "extract":
        for domain in domains:
            update(domain)
    elif action == "compile":
        compile_all()
    elif action == "check":
        gaps = [(d, loc, mid) for d in domains for loc, mid in missing(d)]
        for domain, locale, msgid in gaps:
            print(f"{domain} {locale}: {msgid!r}")
        print(f"{len(gaps)} missing translations")
        return 1 if gaps else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
