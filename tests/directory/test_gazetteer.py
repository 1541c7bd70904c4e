from __future__ import annotations

import pytest

from bot.directory.text import phrase


@pytest.mark.parametrize("name, code", [
    ("Luik", "62063"), ("Lüttich", "62063"), ("Luettich", "62063"), ("Liège", "62063"),
    ("liege", "62063"), ("4000", "62063"), ("Jupille", "62063"), ("Bergen", "53053"),
    ("Doornik", "57081"), ("Namen", "92094"), ("Anvers", "11002"), ("Antwerp", "11002"),
    ("Löwen", "24062"), ("Louvain", "24062"), ("Louvain-la-Neuve", "25121"),
    ("Brüssel", "21004"), ("Bruxelles", "21004"), ("Elsene", "21009"), ("Malines", "12025"),
    ("Kessel-Lo", "24062"), ("Laeken", "21004"), ("Kortessem", "71072"),
    ("Bertogne", "82039"), ("Molenbeek", "21012"), ("Vorst", "21007"), ("Forest", "21007"),
    ("Kelmis", "63040"), ("La Calamine", "63040"), ("Sankt Vith", "63067"),
    ("Saint-Vith", "63067"), ("Hergenrath", "63040"), ("Wallonie", "03000"),
    ("Belgique", "BE"), ("Hainaut", "50000"), ("Брюссель", "21004"),
])
def test_place_names_resolve(service, name, code):
    reading = service.gazetteer.lookup(phrase(name))
    assert reading is not None and reading.codes == (code,)


@pytest.mark.parametrize("name, codes", [
    ("Saint-Nicolas", ("46021", "62093")),
    ("1050", ("21004", "21009")),
])
def test_ambiguous_places_are_reported_as_such(service, name, codes):
    reading = service.gazetteer.lookup(phrase(name))
    assert reading.ambiguous and reading.codes == codes


@pytest.mark.parametrize("code, canonical", [
    ("BE-WAL", "03000"), ("be-wna", "90000"), ("63000", "63000"), ("dg", "DG"), ("BE", "BE"),
])
def test_area_codes(service, code, canonical):
    assert service.gazetteer.canonical(code) == canonical


def test_unknown_codes(service):
    assert service.gazetteer.canonical("99999") is None
    assert service.gazetteer.canonical("BE-XXX") is None


def test_hierarchy_and_communities(service):
    gaz = service.gazetteer
    eupen = dict(gaz.containing("63023"))
    assert {"63023", "63000", "60000", "03000", "DG", "BE"} <= set(eupen)
    assert "FWB" not in eupen
    brussels = dict(gaz.containing("21004"))
    assert {"04000", "FWB", "VG"} <= set(brussels)
    assert brussels["FWB"] == brussels["VG"] == brussels["04000"]
    assert len(gaz.area("DG").municipalities) == 9
    assert len(gaz.municipality_codes()) == 565


def test_typos_are_corrected(sample_index):
    parsed = sample_index.parse("logemnt Anderlect")
    assert parsed.topic == "housing" and parsed.place.codes == ("21001",)
    assert sample_index.parse("werk zoeken in Antwerpn").place.codes == ("11002",)
    assert sample_index.parse("leefloon Kortrjik").place.codes == ("34022",)


def test_exclusions_apply(sample_index):
    ids = [r.entry.id for r in sample_index.search("emploi Eupen", limit=5).results]
    assert "wal-forem" not in ids and ids[0] == "dg-adg"
    ids = [r.entry.id for r in sample_index.search("Arbeit Malmedy", limit=5).results]
    assert ids[0] == "wal-forem"


def test_ambiguous_query_answers_each_reading(sample_index):
    outcome = sample_index.search("aide sociale Saint-Nicolas", limit=3)
    assert outcome.ambiguous
    assert {r.entry.id for r in outcome.results[:2]} == {"cpas-saint-nicolas", "ocmw-sint-niklaas"}


def test_nothing_useful_gives_nothing(sample_index):
    for query in ("quel temps fera-t-il demain ?", "best pizza delivery near me", "", "???"):
        assert sample_index.search(query).results == []
