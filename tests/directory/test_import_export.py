from __future__ import annotations

import csv
import io
import json

import pytest

from bot.cli import main
from bot.directory.csvformat import COLUMNS
from tests.directory.conftest import SAMPLE
from datetime import UTC

HEADER = "id,organisation,topics,coverage,phone,matrix\n"


async def _import(service, db, content: bytes, **kwargs):
    async with db.transaction() as session:
        return await service.import_file(session, content, **kwargs)


async def _ids(service, db) -> list[str]:
    async with db.session() as session:
        return [r.id for r in await service.records(session)]


async def test_round_trip_gives_the_same_directory(service, db):
    report = await _import(service, db, SAMPLE.read_bytes(), replace=True)
    assert report.applied and report.created == 84
    async with db.session() as session:
        first = await service.records(session)
        exported = await service.export(session)
    lines = exported.decode("utf-8").splitlines()
    assert lines[0].startswith("id,organisation,") and lines[1].startswith("#meta+id,#org+name,")
    report = await _import(service, db, exported, replace=True)
    assert report.applied and report.updated == 84 and report.created == 0
    async with db.session() as session:
        assert await service.records(session) == first
        assert await service.export(session) == exported


async def test_a_bad_row_changes_nothing_and_names_line_and_column(service, db):
    await _import(service, db, SAMPLE.read_bytes(), replace=True)
    bad = (HEADER + "a1,Org A,housing,21004,,\n"
           "a2,Org B,housing;flying,21004,,\n"
           "a3,Org C,housing,99999,,\n"
           "a1,Org D,housing,BE,,\n").encode()
    report = await _import(service, db, bad, replace=True)
    assert not report.applied
    text = [str(p) for p in report.problems]
    assert any("line 3" in t and "topics" in t and "flying" in t for t in text)
    assert any("line 4" in t and "coverage" in t and "99999" in t for t in text)
    assert any("line 5" in t and "duplicate" in t for t in text)
    assert len(await _ids(service, db)) == 84


async def test_skip_invalid_imports_the_valid_rows(service, db):
    bad = (HEADER + "a1,Org A,housing,21004,,\n" "a2,Org B,flying,21004,,\n").encode()
    report = await _import(service, db, bad, skip_invalid=True)
    assert report.applied and report.created == 1 and report.skipped == 1
    assert await _ids(service, db) == ["a1"]


async def test_bom_hashtags_only_and_unknown_columns(service, db):
    content = ("\ufeffident,nom,Sujets,zone,remarks\n"
               "#meta+id,#org+name,#sector+code,#loc+code,#meta+remarks\n"
               "x1,Org X,housing,BE-WAL;-DG,open on Mondays\n").encode("utf-8")
    report = await _import(service, db, content)
    assert report.applied, report.problems
    async with db.session() as session:
        (record,) = await service.records(session)
        exported = (await service.export(session)).decode()
    assert record.coverage == ("BE-WAL", "-DG")
    assert record.attributes == {"remarks": "open on Mondays"}
    assert "remarks" in exported.splitlines()[0] and "open on Mondays" in exported


async def test_import_without_hxl_row(service, db):
    report = await _import(service, db, (HEADER + "a1,Org A,housing,21004,,\n").encode())
    assert report.applied and report.created == 1


@pytest.mark.parametrize("content, words", [
    (b"", "empty"),
    (b"   \n\n", "empty"),
    (HEADER.encode(), "no entries"),
    ("id,organisation,topics,coverage\na1,Soci\xe9t\xe9,housing,BE\n".encode("latin-1"), "UTF-8"),
    (b"id,organisation,coverage\na1,Org,BE\n", "topics"),
])
async def test_file_errors_are_clear(service, db, content, words):
    report = await _import(service, db, content)
    assert not report.applied and words in report.file_error


async def test_formula_cells_are_escaped_on_export_and_restored_on_import(service, db):
    content = (HEADER + 'a1,=HYPERLINK("x"),housing,21004,+32 2 000 00 00,'
               '@focal:example.org\n').encode()
    assert (await _import(service, db, content)).applied
    async with db.session() as session:
        exported = (await service.export(session)).decode()
        original = await service.records(session)
    row = list(csv.reader(io.StringIO(exported)))[2]
    names = [name for name, _tag in COLUMNS]
    assert row[names.index("organisation")] == "'=HYPERLINK(\"x\")"
    assert row[names.index("phone")] == "'+32 2 000 00 00"
    assert row[names.index("matrix")] == "'@focal:example.org"
    assert (await _import(service, db, exported.encode(), replace=True)).applied
    async with db.session() as session:
        assert await service.records(session) == original


async def test_validation_of_contacts_and_dates(service, db):
    content = (b"id,organisation,topics,coverage,email,matrix,last_verified,languages,status\n"
               b"a1,Org,housing,BE,not-an-email,alice,31/12/2025,french,open\n")
    report = await _import(service, db, content)
    columns = {p.column for p in report.problems}
    assert {"email", "matrix", "last_verified", "languages", "status"} <= columns


def test_command_line_contract(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COORDBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setenv("COORDBOT_DATA_DIR", str(tmp_path / "var"))
    assert main(["directory", "import", str(SAMPLE), "--replace"]) == 0
    assert "84 new" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("Arbeit Eupen\nquel temps fera-t-il demain ?\n"
                                                 "CPAS Saint-Nicolas\n"))
    assert main(["directory", "search", "--stdin", "--json", "--limit", "3"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["query"] for line in lines] == ["Arbeit Eupen", "quel temps fera-t-il demain ?",
                                                 "CPAS Saint-Nicolas"]
    assert lines[0]["results"][0]["id"] == "dg-adg" and "score" in lines[0]["results"][0]
    assert lines[1]["results"] == []
    assert lines[2]["ambiguous"] is True
    assert main(["directory", "search", "housing 4000", "--limit", "2"]) == 0
    assert "cpas-liege" in capsys.readouterr().out
    out = tmp_path / "export.csv"
    assert main(["directory", "export", str(out)]) == 0
    assert out.read_text(encoding="utf-8").splitlines()[1].startswith("#meta+id")
    bad = tmp_path / "bad.csv"
    bad.write_text("id,organisation,topics,coverage\na1,Org,flying,BE\n", encoding="utf-8")
    assert main(["directory", "import", str(bad), "--replace"]) == 1
    err = capsys.readouterr().err
    assert "line 2" in err and "flying" in err and "nothing was imported" in err


async def test_entries_due_for_reverification(db, tmp_path):
    from datetime import datetime

    from bot.clock import FakeClock
    from bot.config import PROJECT_ROOT
    from bot.directory.service import DirectoryService

    clock = FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    service = DirectoryService(PROJECT_ROOT / "data", clock)
    content = (b"id,organisation,topics,coverage,matrix,telegram,last_verified\n"
               b"fresh,Org,housing,BE,@a:example.org,,2026-02-01\n"
               b"old,Org,housing,BE,,focal_point,2025-10-01\n"
               b"never,Org,housing,BE,@b:example.org,,\n"
               b"nobody,Org,housing,BE,,,2025-01-01\n")
    async with db.transaction() as session:
        assert (await service.import_file(session, content)).applied
        due = sorted(e.id for e in await service.due_for_verification(session))
        assert due == ["never", "old"]
        await service.mark_asked(session, "old")
        assert [e.id for e in await service.due_for_verification(session)] == ["never"]
        record = await service.confirm(session, "never")
        assert record.last_verified.isoformat() == "2026-03-02"
        assert await service.due_for_verification(session) == []
        stale = [r.id for r in await service.stale(session)]
        assert stale == ["nobody", "old"]
