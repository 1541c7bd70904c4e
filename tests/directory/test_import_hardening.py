"""Directory import and export against careless and hostile files: a semicolon or tab
delimiter (Excel in Belgium), a cell over the csv module's 131,072-character limit, a NUL
byte, formula-like column names and cells hiding `=` behind an invisible character, and a
large import that must not hold up other people's messages."""
from __future__ import annotations

import asyncio
import csv
import io

import pytest

from bot.cli import main
from bot.directory.csvformat import COLUMNS
from tests.directory.conftest import SAMPLE
from tests.directory.test_import_export import _ids, _import

ROW = "a1,Org A,housing,21004\n"


def staged(service, db, content, **kwargs):
    return service.import_staged(db, content, **kwargs)


@pytest.mark.parametrize("delimiter", [";", "\t"])
async def test_semicolon_and_tab_files_are_read(service, db, delimiter):
    text = SAMPLE.read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    content = buffer.getvalue().encode("utf-8-sig")
    report = await _import(service, db, content, replace=True)
    assert report.applied and report.created == 84, report.file_error
    report = await staged(service, db, content, replace=True)
    assert report.applied and report.updated == 84, report.file_error


async def test_a_cell_over_the_csv_limit_is_a_problem_of_its_line(service, db):
    content = ("id,organisation,topics,coverage\n" + ROW
               + "a2,Org B," + "x" * 140_000 + ",BE\n" + "a3,Org C,housing,BE\n").encode()
    for run in (_import, staged):
        report = await run(service, db, content)
        assert not report.applied and report.file_error is None
        [problem] = [str(p) for p in report.problems]
        assert "line 3" in problem and "longer than" in problem
        assert report.total_rows == 3 and report.skipped == 1
    report = await staged(service, db, content, skip_invalid=True)
    assert report.applied and sorted(await _ids(service, db)) == ["a1", "a3"]


def test_the_command_line_reports_a_huge_cell_without_a_traceback(tmp_path, monkeypatch,
                                                                  capsys):
    monkeypatch.setenv("COORDBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setenv("COORDBOT_DATA_DIR", str(tmp_path / "var"))
    path = tmp_path / "big.csv"
    path.write_text("id,organisation,topics,coverage\n" + ROW + "a2,Org," + "y" * 200_000
                    + ",BE\n", encoding="utf-8")
    assert main(["directory", "import", str(path)]) == 1
    err = capsys.readouterr().err
    assert "line 3" in err and "longer than" in err and "Traceback" not in err


async def test_a_nul_byte_is_refused_clearly_and_nothing_is_stored(service, db):
    content = (b"id,organisation,topics,coverage\na1,Org\x00A,housing,21004\n")
    for run in (_import, staged):
        report = await run(service, db, content)
        assert not report.applied
        [problem] = [str(p) for p in report.problems]
        assert "line 2" in problem and "organisation" in problem and "NUL" in problem
    assert await _ids(service, db) == []
    content = b"id,organisation,topics,coverage,no\x00te\n" + ROW.encode()
    report = await _import(service, db, content)
    assert not report.applied and "NUL" in report.file_error


async def test_column_names_and_invisible_prefixes_are_escaped_on_export(service, db):
    content = ('id,organisation,topics,coverage,"=HYPERLINK(""http://x"")",service\n'
               'a1,\ufeff=1+1,housing,21004,note,\u200b@SUM(A1)\n').encode()
    assert (await _import(service, db, content)).applied
    async with db.session() as session:
        original = await service.records(session)
        exported = (await service.export(session)).decode()
    header, _tags, row = list(csv.reader(io.StringIO(exported)))[:3]
    assert header[-1] == "'=HYPERLINK(\"http://x\")"
    names = [name for name, _tag in COLUMNS]
    assert row[names.index("organisation")] == "'\ufeff=1+1"
    assert row[names.index("service")] == "'\u200b@SUM(A1)"
    assert (await _import(service, db, exported.encode(), replace=True)).applied
    async with db.session() as session:
        assert await service.records(session) == original


async def test_the_staged_import_writes_what_the_in_session_import_writes(service, db):
    report = await staged(service, db, SAMPLE.read_bytes(), replace=True)
    assert report.applied and report.created == 84 and report.problems == []
    async with db.session() as session:
        first = await service.records(session)
        exported = await service.export(session)
    extra = (b"id,organisation,topics,coverage\n" + ROW.encode()
             + b"be-fedasil,Fedasil renamed,reception,BE\n")
    report = await staged(service, db, extra)
    assert (report.created, report.updated, report.removed) == (1, 1, 0)
    async with db.session() as session:
        records = {r.id: r for r in await service.records(session)}
    assert records["be-fedasil"].organisation == "Fedasil renamed" and "a1" in records
    report = await staged(service, db, exported, replace=True)
    assert (report.created, report.updated, report.removed) == (0, 84, 1)
    async with db.session() as session:
        assert await service.records(session) == first
    bad = b"id,organisation,topics,coverage\n" + ROW.encode() + b"a2,Org,flying,BE\n"
    report = await staged(service, db, bad, replace=True)
    assert not report.applied and report.skipped == 1
    async with db.session() as session:
        assert await service.records(session) == first  # all or nothing


def big_file(rows: int) -> bytes:
    lines = ["id,organisation,service,topics,coverage,keywords"]
    lines += [f"e{i},Organisation {i % 500},Service {i},housing;social_aid,21004;BE-WAL,"
              f"word{i}" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


async def test_other_people_are_answered_while_a_chat_import_runs(bot):
    from bot.directory.models import DirectoryEntry
    from bot.messages import Attachment

    await bot.say("/whoami", as_="bob")
    message = bot.message("/import replace", as_="alice")
    message.attachment = Attachment("big.csv", big_file(10_000), "text/csv")
    entries_when_bob_was_answered = []

    async def bob():
        await asyncio.sleep(0.05)  # the import has started
        assert "Role: guest" in await bot.ask("/whoami", as_="bob")
        entries_when_bob_was_answered.append(await bot.count(DirectoryEntry))

    replies, _ = await asyncio.gather(bot.app.handle(message), bob())
    assert "10000 new" in replies[0].plain()
    # Bob did not wait for the import to finish: it had not switched the directory yet.
    assert entries_when_bob_was_answered == [0]
    assert "e9999" in await bot.ask("/entry e9999", as_="alice")


async def test_a_chat_import_words_its_problems_in_the_coordinators_language(bot):
    from bot.messages import Attachment

    await bot.say("/lang fr", as_="alice")
    message = bot.message("/import", as_="alice")
    message.attachment = Attachment("annuaire.csv", b"id;organisation;topics;coverage\n"
                                    b"a1;Org\x00A;housing;21004\n", "text/csv")
    answer = "\n".join(r.plain() for r in await bot.app.handle(message))
    assert "ligne 2, colonne organisation" in answer and "caractère NUL" in answer
    assert "rien n'a été modifié" in answer
