"""The bundled directory's public facts: each one comes from a page someone read, and the
committed seed is what the build tool makes of its inputs."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tools import build_seed_directory

DIRECTORY = Path(build_seed_directory.DATA) / "directory"


def _seed_rows() -> list[dict[str, str]]:
    with (DIRECTORY / "seed.csv").open(encoding="utf-8", newline="") as f:
        return [row for row in csv.DictReader(f) if not row["id"].startswith("#")]


def test_the_committed_seed_is_what_the_build_makes_of_its_inputs() -> None:
    rows, _summary = build_seed_directory.build()
    assert (DIRECTORY / "seed.csv").read_text(encoding="utf-8") == \
        build_seed_directory.render(rows)


def test_every_phone_email_and_address_has_a_public_source_and_a_check_date() -> None:
    unsourced = [row["id"] for row in _seed_rows()
                 if (row["phone"] or row["email"] or row["address"])
                 and not (row["source"] and row["checked_on"])]
    assert unsourced == []
    for row in _seed_rows():
        for url in filter(None, row["source"].split(";")):
            assert url.startswith(("https://", "http://")), (row["id"], url)


def test_every_fact_names_an_entry_a_field_and_the_page_it_was_read_on() -> None:
    ids = {row["id"] for row in _seed_rows()}
    with (DIRECTORY / "facts.csv").open(encoding="utf-8", newline="") as f:
        facts = list(csv.DictReader(f))
    assert facts
    for fact in facts:
        assert fact["id"] in ids, fact
        assert fact["field"] in build_seed_directory.FACT_FIELDS, fact
        assert fact["source"].startswith(("https://", "http://")), fact
        assert bool(fact["value"]) == (fact["field"] != "source"), fact


@pytest.mark.parametrize(("written", "stored"), [
    ("02/279.22.11", "+32 2 279 22 11"),
    ("011/78.92.10", "+32 11 78 92 10"),
    ("080 / 28 00 60", "+32 80 28 00 60"),
    ("0800/20.800", "+32 800 20 800"),
    ("+32 9 266 99 11", "+32 9 266 99 11"),
    ("105", "105"),
    ("116000", "116000"),
])
def test_a_number_is_quoted_as_written_and_stored_as_the_editor_would(written: str,
                                                                       stored: str) -> None:
    assert build_seed_directory.seed_phone(written) == stored
