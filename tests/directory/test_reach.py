"""Issue 18: public facts carry their source, and every answer gives a way to reach someone."""
from __future__ import annotations

import re

import pytest

from bot.config import PROJECT_ROOT
from bot.directory.csvformat import write_directory
from bot.directory.routes import contact_route
from tests.directory.test_chat import promote
from tests.harness import make_bot

SEED = PROJECT_ROOT / "data" / "directory" / "seed.csv"
PUBLIC_TYPES = {"federal", "regional", "community", "provincial", "municipal", "cpas",
                "international"}
PHONE = re.compile(r"(\+32|0800|\b1\d\d\b|\b116 ?000\b)[\d ]*")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


@pytest.fixture
async def seeded_bot(tmp_path, database_url):
    harness = await make_bot(tmp_path, database_url, load_bundled_data=True,
                             admins=["console:alice"])
    yield harness
    await harness.close()


def _seed(service):
    parsed = service.parse(SEED.read_bytes())
    assert not parsed.problems
    return parsed.records


def test_every_public_fact_in_the_seed_has_a_source(service):
    for record in _seed(service):
        if record.phone or record.email or record.address:
            assert record.source, record.id
            assert all(url.startswith(("https://", "http://")) for url in record.source)
            assert record.checked_on is not None, record.id


def test_public_bodies_figures(service):
    """Measured, not a target met: prints the share of public bodies (not the generated
    per-municipality rows) with a phone, e-mail or website, and with a phone."""
    bodies = [r for r in _seed(service) if not r.id.startswith(("cpas-", "ocmw-", "oeshz-",
                                                                "pop-"))]
    reachable = sum(1 for r in bodies if r.phone or r.email or r.url)
    with_phone = sum(1 for r in bodies if r.phone)
    centres = [r for r in _seed(service) if r.org_type == "cpas"]
    print(f"\npublic bodies: {len(bodies)}; phone/e-mail/website {reachable / len(bodies):.0%}; "
          f"phone {with_phone / len(bodies):.0%}; centres with phone or e-mail "
          f"{sum(1 for r in centres if r.has_direct_contact)}/{len(centres)}")
    assert reachable / len(bodies) >= 0.6 and with_phone >= 5


def test_service_texts_in_every_language_round_trip(service):
    records = _seed(service)
    assert all({"fr", "nl", "de", "en", "uk"} <= set(r.services) for r in records)
    again = service.parse(write_directory(records)).records
    assert [(r.services, r.hours, r.source, r.checked_on) for r in again] == \
        [(r.services, r.hours, r.source, r.checked_on) for r in records]


def test_names_that_differ_only_by_province_are_told_apart(service):
    names = [r.organisation_names.get("fr") for r in _seed(service) if r.org_type == "cpas"]
    assert "CPAS de Saint-Nicolas (Liège)" in names
    assert "CPAS de Saint-Nicolas (Flandre orientale)" in names
    assert "CPAS des Bons Villers" in names and "CPAS du Rœulx" in names
    assert len(names) == len(set(names))


async def test_every_cpas_answer_gives_a_way_to_reach_someone(seeded_bot):
    directory = seeded_bot.services.directory
    centres = [e for e in directory.index.entries if e.org_type == "cpas"]
    assert len(centres) == 565
    for entry in centres:
        route = contact_route(entry, directory.index, directory.gazetteer)
        reach = entry if entry.has_direct_contact else route.entry
        assert reach.phone or reach.email, entry.id
    # The chat shows it: a centre without a number says so and names who to call instead.
    text = await seeded_bot.ask("/who CPAS de Couvin", as_="bob")
    first = text.split("\n\n")[1]
    assert "(cpas-couvin)" in first and "No phone or e-mail on file" in first
    assert PHONE.search(first.split("No phone or e-mail on file")[1])
    for question in ("/entry cpas-couvin", "/entry ocmw-aalst", "/entry oeshz-eupen",
                     "/entry cpas-ixelles"):
        text = await seeded_bot.ask(question, as_="bob")
        assert PHONE.search(text) or EMAIL.search(text), text


async def test_a_dutch_speaker_reads_dutch_and_the_municipality_route(seeded_bot):
    await seeded_bot.ask("/lang nl", as_="bob")
    text = await seeded_bot.ask("wie helpt met inburgering in Gent", as_="bob")
    assert "(vlg-amal)" in text and "Ondertussen, in dezelfde gemeente" in text
    assert PHONE.search(text.split("Ondertussen, in dezelfde gemeente")[1])
    text = await seeded_bot.ask("/who Fedasil", as_="bob")
    assert "Noodopvang voor ontheemden" in text


async def test_a_card_reaches_the_population_service(seeded_bot):
    text = await seeded_bot.ask("/who A-kaart Gent", as_="bob")
    assert text.split("\n\n")[1].startswith("1. ") and "(pop-gent)" in text.split("\n\n")[1]


async def test_incomplete_lists_entries_without_contact_largest_first(seeded_bot):
    assert "not available to you" in await seeded_bot.ask("/incomplete", as_="bob")
    await promote(seeded_bot, "carol", "coordinator")
    text = await seeded_bot.ask("/incomplete", as_="carol")
    lines = text.splitlines()
    assert "entries have no phone or e-mail" in lines[0]
    # The largest cities first: Antwerp (whose OCMW and population service have a number, but
    # not Atlas), then Ghent (whose OCMW and population service have one, not Amal).
    assert lines[1:4] == ["Antwerp", "• vlg-atlas Atlas, integratie & inburgering Antwerpen",
                          "Ghent"], lines
    assert "vlg-amal" in text and "pop-gent" not in text and "ocmw-gent" not in text
    assert "pop-antwerpen" not in text
    text = await seeded_bot.ask("/incomplete Couvin", as_="carol")
    assert "cpas-couvin" in text and "pop-couvin" in text and "cpas-namur" not in text
    assert "I do not know the area" in await seeded_bot.ask("/incomplete Atlantis", as_="carol")
    await seeded_bot.ask("/lang fr", as_="carol")
    assert "fiches n'ont ni téléphone ni e-mail" in await seeded_bot.ask("/incomplete Couvin",
                                                                          as_="carol")


async def test_public_facts_survive_the_database_and_export(seeded_bot):
    directory = seeded_bot.services.directory
    async with seeded_bot.services.db.session() as session:
        exported = await directory.export(session)
    again = {r.id: r for r in directory.parse(exported).records}
    oe = again["be-oe"]
    assert oe.phone and oe.hours and oe.checked_on is not None
    assert oe.source == ("https://dofi.ibz.be/en/contact",)
    assert oe.services["nl"].startswith("Registratie") and "uk" in oe.services
    assert not oe.attributes  # the new columns are columns, not free attributes


def test_municipalities_with_language_facilities_serve_both_languages(service):
    languages = {r.id: r.languages for r in _seed(service)}
    assert languages["ocmw-kraainem"] == ("nl", "fr") and languages["ocmw-voeren"] == ("nl", "fr")
    assert languages["cpas-mouscron"] == ("fr", "nl") and languages["cpas-malmedy"] == ("fr", "de")
    assert languages["pop-kraainem"] == ("nl", "fr") and languages["ocmw-gent"] == ("nl",)
    names = {r.id: r for r in _seed(service)}
    assert names["be-rode-kruis"].organisation == "Rode Kruis-Vlaanderen"
    assert names["bru-brulocalis"].organisation_names["nl"].endswith(
        "Vereniging van de Stad en de Gemeenten van het Brussels Hoofdstedelijk Gewest")
    assert names["be-fedasil"].organisation != names["be-fedasil-mena"].organisation
