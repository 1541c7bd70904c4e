"""The bundled seed directory answers the issue's example questions from `coordbot chat`."""
from __future__ import annotations

import csv

import pytest

from bot.config import PROJECT_ROOT
from bot.directory.models import DirectoryEntry
from tests.harness import make_bot

SEED = PROJECT_ROOT / "data" / "directory" / "seed.csv"


def test_seed_has_one_welfare_centre_per_municipality(service):
    parsed = service.parse(SEED.read_bytes())
    assert not parsed.problems
    centres = [r for r in parsed.records if r.org_type == "cpas"]
    assert sorted(r.coverage[0] for r in centres) == service.gazetteer.municipality_codes()
    by_code = {r.coverage[0]: r.organisation for r in centres}
    assert by_code["62063"] == "CPAS Liège" and by_code["44021"] == "OCMW Gent"
    assert by_code["63023"] == "ÖSHZ Eupen" and by_code["21009"] == "CPAS / OCMW Ixelles"
    # Contacts come only from public pages (their source is checked in test_seed_sources.py);
    # no focal point is named in bundled data.
    assert not any(r.contact_name for r in centres)
    assert all(r.source for r in centres if r.phone or r.email)


@pytest.fixture
async def seeded_bot(tmp_path, database_url):
    harness = await make_bot(tmp_path, database_url, load_bundled_data=True)
    yield harness
    await harness.close()


EXAMPLES = [
    ("/who logement Luik", "cpas-liege"),
    ("wie helpt met leefloon in 9000", "ocmw-gent"),
    ("Arbeit Eupen", "dg-adg"),
    ("cpas charlerois", "cpas-charleroi"),
]


async def test_example_questions(seeded_bot):
    for question, expected in EXAMPLES:
        text = await seeded_bot.ask(question, as_="bob")
        first = text.split("\n\n")[1]
        assert first.startswith("1. ") and f"({expected})" in first, text


async def test_seed_is_loaded_only_into_an_empty_directory(seeded_bot):
    count = await seeded_bot.count(DirectoryEntry)
    with SEED.open(encoding="utf-8") as handle:
        assert count == sum(1 for _ in csv.reader(handle)) - 2
    await seeded_bot.services.startup_hooks[0](seeded_bot.services)
    assert await seeded_bot.count(DirectoryEntry) == count
