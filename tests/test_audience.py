"""The AUDIENCE grammar (bot/audience/) against the bundled directory: phrases people write
in five languages and what each resolves to. A phrase that cannot be read is asked back
with readings (or refused with a hint), never read with a word left out."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.audience import AudienceError, Grammar, parse_role, split_role
from bot.directory.index import DirectoryIndex
from bot.directory.service import DirectoryService
from bot.policy import Role
from tests.harness import property_examples

DATA = Path(__file__).resolve().parent.parent / "data"
FP, CO, ST, AD, GU = ("role:focal_point", "role:coordinator", "role:staff", "role:admin",
                      "role:guest")
FEDASIL = ["org:be-fedasil", "org:be-fedasil-mena"]


@pytest.fixture(scope="module")
def grammar() -> Grammar:
    directory = DirectoryService(DATA)
    parsed = directory.parse((DATA / "directory" / "seed.csv").read_bytes())
    directory.index = DirectoryIndex(parsed.records, directory.gazetteer, directory.vocabulary)
    return Grammar(directory)


def read(grammar: Grammar, text: str) -> list[str]:
    found: list[str] = []
    for term in grammar.parse(text):
        found += [t for t in term.tokens("console:here") if t not in found]
    return found


def canonical(grammar: Grammar, token: str) -> str:
    """`area:BE-WHT` in the table → the stored NIS code, so the table reads like a person."""
    parts = []
    for part in token.split("&"):
        kind, _sep, value = part.partition(":")
        parts.append(f"area:{grammar.directory.area_code(value)}" if kind == "area" else part)
    return "&".join(parts)


def both(who: str, where: str) -> str:
    return f"{who}&area:{where}"


RESOLVED = [
    # French
    ("les points focaux du Hainaut", [both(FP, "BE-WHT")]),
    ("points focaux en Flandre", [both(FP, "BE-VLG")]),
    ("points focaux en Wallonie", [both(FP, "BE-WAL")]),
    ("point focal", [FP]),
    ("coordinatrices", [CO]),
    ("coordinateurs et points focaux", [CO, FP]),
    ("coordinateurs et points focaux du Hainaut", [both(CO, "BE-WHT"), both(FP, "BE-WHT")]),
    ("coordinateurs, points focaux du Hainaut", [CO, both(FP, "BE-WHT")]),
    ("CPAS de Mons", ["org:cpas-mons"]),
    ("CPAS de Mons et OCMW Aalst", ["org:cpas-mons", "org:ocmw-aalst"]),
    ("CPAS d'Alost", ["org:ocmw-aalst"]),
    ("tout le monde", ["all"]),
    ("ici", ["chat:console:here"]),
    ("points focaux de la province de Namur", [both(FP, "BE-WNA")]),
    ("points focaux de la ville de Namur", [both(FP, "92094")]),
    ("tous les points focaux du Hainaut et de la province de Namur",
     [both(FP, "BE-WHT"), both(FP, "BE-WNA")]),
    ("les points focaux du CPAS de Liège", [f"{FP}&org:cpas-liege"]),
    ("membres du personnel à Bruxelles", [both(ST, "21004")]),
    ("administrateurs", [AD]),
    ("invités", [GU]),
    ("Fedasil", FEDASIL),
    ("le Forem", ["org:wal-forem"]),
    ("référentes du Brabant wallon", [both(FP, "BE-WBR")]),
    ("4000", ["area:62063"]),
    ("collaboratrices du CPAS de Charleroi", [f"{ST}&org:cpas-charleroi"]),
    ("Luxembourg", ["area:BE-WLX"]),
    ("région wallonne", ["area:BE-WAL"]),
    ("role:focal_point area:BE-WAL", [both(FP, "BE-WAL")]),
    ("role:focal_point, area:BE-WAL", [FP, "area:BE-WAL"]),
    ("org:cpas-liege", ["org:cpas-liege"]),
    ("area:Wallonie", ["area:BE-WAL"]),
    # Dutch
    ("contactpersonen", [FP]),
    ("aanspreekpunt", [FP]),
    ("aanspreekpunten in Waals-Brabant", [both(FP, "BE-WBR")]),
    ("contactpersonen in Gent en Brugge", [both(FP, "44021"), both(FP, "31005")]),
    ("coördinatoren en contactpersonen", [CO, FP]),
    ("coördinatrice", [CO]),
    ("OCMW Aalst", ["org:ocmw-aalst"]),
    ("OCMW Brugge en OCMW Gent", ["org:ocmw-brugge", "org:ocmw-gent"]),
    ("OCMW Bergen", ["org:cpas-mons"]),
    ("OCMW Aalst en Gent", ["org:ocmw-aalst", "area:44021"]),
    ("iedereen", ["all"]),
    ("hier", ["chat:console:here"]),
    ("medewerkers in Vlaanderen", [both(ST, "BE-VLG")]),
    ("contactpersonen van de provincie Limburg", [both(FP, "BE-VLI")]),
    ("alle contactpersonen in Oost-Vlaanderen", [both(FP, "BE-VOV")]),
    ("Kind en Gezin", ["org:vg-opgroeien"]),
    ("VDAB en Actiris", ["org:vlg-vdab", "org:bru-actiris"]),
    ("beheerders", [AD]),
    ("gasten", [GU]),
    ("9000", ["area:44021"]),
    # German
    ("Ansprechpartner", [FP]),
    ("Ansprechpartnerinnen in Ostbelgien", [both(FP, "DG")]),
    ("alle Ansprechpartner in der Provinz Lüttich", [both(FP, "BE-WLG")]),
    ("Koordinatorinnen und Koordinatoren", [CO]),
    ("Mitarbeiter in Eupen", [both(ST, "63023")]),
    ("ÖSHZ Eupen", ["org:oeshz-eupen"]),
    ("alle", ["all"]),
    ("Administratorin", [AD]),
    ("Kontaktpersonen im Hennegau", [both(FP, "BE-WHT")]),
    ("Gäste", [GU]),
    # English
    ("focal points in Hainaut", [both(FP, "BE-WHT")]),
    ("everyone", ["all"]),
    ("here", ["chat:console:here"]),
    ("coordinators and focal points in Walloon Brabant",
     [both(CO, "BE-WBR"), both(FP, "BE-WBR")]),
    ("staff members in Flanders", [both(ST, "BE-VLG")]),
    ("Fedasil and Actiris", [*FEDASIL, "org:bru-actiris"]),
    ("focal point of CPAS de Charleroi", [f"{FP}&org:cpas-charleroi"]),
    ("admins", [AD]),
    # Ukrainian
    ("контактні особи", [FP]),
    ("контактні особи у Льєжі", [both(FP, "62063")]),
    ("координатори", [CO]),
    ("координаторам і контактним особам", [CO, FP]),
    ("всі", ["all"]),
    ("тут", ["chat:console:here"]),
    ("працівники в Антверпені", [both(ST, "11002")]),
    ("контактна особа в Намюрі", [both(FP, "92094")]),
    ("адміністратори", [AD]),
]

# Asked back: the readings offered (what replaces the unclear part when chosen).
ASKED = [
    ("points focaux de Namur", "Namur", ["area:92094", "area:90000"]),
    ("contactpersonen in Luik", "Luik", ["area:62063", "area:60000"]),
    ("contactpersonen in Limburg", "Limburg", ["area:63046", "area:70000"]),
    ("Fedasill", "Fedasill", ["org:be-fedasil"]),
    ("coordinatuers", "coordinatuers", ["coordinateurs"]),
    ("CPAS de Monss", "CPAS de Monss", ["org:cpas-mons"]),
    ("points focaux du Hainaut et OCMW Aalstt", "OCMW Aalstt", ["org:ocmw-aalst"]),
    ("Ansprechpartner in Namen", "Namen", ["area:92094", "area:90000"]),
]

# Refused with an explanation naming places and names, not only codes.
REFUSED = [
    ("role:king", "Unknown role"),
    ("area:BE-XYZ", "Unknown area code"),
    ("blabla", "Hainaut"),
    ("points focaux du Hainaut et xyzzy", "xyzzy"),
]


def test_the_table_covers_five_languages_and_at_least_sixty_phrases():
    assert len(RESOLVED) + len(ASKED) + len(REFUSED) >= 60
    assert len(RESOLVED) >= 60


@pytest.mark.parametrize("text,expected", RESOLVED, ids=[t for t, _e in RESOLVED])
def test_phrase_resolves(grammar, text, expected):
    assert read(grammar, text) == [canonical(grammar, token) for token in expected]


@pytest.mark.parametrize("text,item,readings", ASKED, ids=[t for t, *_r in ASKED])
def test_unclear_part_is_asked_back_with_readings(grammar, text, item, readings):
    with pytest.raises(AudienceError) as caught:
        read(grammar, text)
    problem = caught.value
    assert problem.item == item
    offered = [reading.text for reading in problem.readings]
    assert all(any(reading in o for o in offered) for reading in readings), offered
    # Choosing a reading gives a text the grammar reads, with the rest of the phrase kept.
    chosen = problem.rewrite(next(r for r in problem.readings if readings[0] in r.text))
    assert read(grammar, chosen)


@pytest.mark.parametrize("text,words", REFUSED, ids=[t for t, _w in REFUSED])
def test_refusals_explain(grammar, text, words):
    with pytest.raises(AudienceError) as caught:
        read(grammar, text)
    assert words in str(caught.value)


def test_a_word_is_never_dropped(grammar):
    """Every unknown word in an otherwise good phrase stops the phrase."""
    for text in ("points focaux du Hainaut zorblax", "zorblax contactpersonen",
                 "CPAS de Mons et zorblax"):
        with pytest.raises(AudienceError) as caught:
            read(grammar, text)
        assert "zorblax" in caught.value.item


@pytest.mark.parametrize("text,role", [
    ("coordinatrice", Role.COORDINATOR), ("point focal", Role.FOCAL_POINT),
    ("aanspreekpunt", Role.FOCAL_POINT), ("Ansprechpartnerin", Role.FOCAL_POINT),
    ("focal_point", Role.FOCAL_POINT), ("медewerker", None), ("medewerker", Role.STAFF),
    ("контактна особа", Role.FOCAL_POINT), ("admin", Role.ADMIN), ("king", None)])
def test_role_words(text, role):
    assert parse_role(text) == role


def test_split_role_takes_the_longest_role_phrase():
    assert split_role("point focal CPAS de Liège") == (Role.FOCAL_POINT, "point focal",
                                                       "CPAS de Liège")
    assert split_role("aanspreekpunt OCMW Brugge")[::2] == (Role.FOCAL_POINT, "OCMW Brugge")
    assert split_role("focal_point cpas-liege e-1") == (Role.FOCAL_POINT, "focal_point",
                                                        "cpas-liege e-1")


WORDS = ["points", "focaux", "du", "Hainaut", "en", "et", ",", "CPAS", "de", "Mons", "OCMW",
         "role:", "area:", "org:", "@", "ici", "alle", "у", "Льєжі", "Namur", "4000", "&", "+",
         "province", "ville", "xyz", "Fedasil", ":", "'", "-", "contactpersonen", "é"]


@settings(max_examples=property_examples(300), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(WORDS) | st.text(max_size=8), max_size=12))
def test_any_text_is_read_or_explained(grammar, words):
    try:
        read(grammar, " ".join(words))
    except AudienceError as problem:
        assert str(problem) and all(r.label and r.text for r in problem.readings)
