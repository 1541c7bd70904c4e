"""The directory interchange format (docs: the directory contract, "The file"): UTF-8 CSV with
an optional HXL hashtag row; columns matched by name or hashtag; unknown columns kept as free
attributes. Every problem is reported with its line and column; the caller decides whether a
file with problems changes anything (it does not, unless invalid rows are skipped)."""
from __future__ import annotations

import csv
import io
import itertools
import re
from dataclasses import dataclass, field
from typing import BinaryIO
from collections.abc import Iterator

from bot.directory.gazetteer import Gazetteer
from bot.directory.records import (SERVICE_LANGUAGES, EntryRecord)
from bot.directory.csvrows import (MAX_CELL, NUL, REQUIRED, Problem, formula_like, nul_problem,
                                   parse_row, unescape)
from bot.directory.vocabulary import Vocabulary
from bot.i18n import _

COLUMNS: list[tuple[str, str]] = [
    ("id", "#meta+id"),
    ("organisation", "#org+name"),
    ("organisation_fr", "#org+name+i_fr"),
    ("organisation_nl", "#org+name+i_nl"),
    ("organisation_de", "#org+name+i_de"),
    ("organisation_en", "#org+name+i_en"),
    ("acronym", "#org+acronym"),
    ("org_type", "#org+type"),
    ("service", "#service+name"),
    ("topics", "#sector+code"),
    ("coverage", "#loc+code"),
    ("keywords", "#meta+keywords"),
    ("languages", "#meta+languages"),
    ("contact_name", "#contact+name"),
    ("email", "#contact+email"),
    ("phone", "#contact+phone"),
    ("url", "#contact+url"),
    ("address", "#loc+address"),
    ("matrix", "#contact+matrix"),
    ("telegram", "#contact+telegram"),
    ("status", "#status+code"),
    ("last_verified", "#date+reported"),
    ("service_fr", "#service+name+i_fr"),
    ("service_nl", "#service+name+i_nl"),
    ("service_de", "#service+name+i_de"),
    ("service_en", "#service+name+i_en"),
    ("service_uk", "#service+name+i_uk"),
    ("hours", "#meta+hours"),
    ("source", "#meta+source"),
    ("checked_on", "#date+checked"),
]
_UNDECODED = re.compile("[\udc80-\udcff]")


@dataclass
class ParsedFile:
    records: list[EntryRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    invalid_lines: int = 0
    total_rows: int = 0


class FileError(ValueError):
    """The file cannot be read at all (encoding, empty, no header)."""


def hashtag_key(tag: str) -> tuple[str, frozenset[str]]:
    parts = tag.strip().lower().lstrip("#").split("+")
    return parts[0], frozenset(p for p in parts[1:] if p)


_BY_NAME = {name: name for name, _tag in COLUMNS}
_BY_TAG = {hashtag_key(tag): name for name, tag in COLUMNS}


@dataclass(frozen=True)
class Row:
    """One data row of a file: its first physical line, the record when the row is valid,
    else what is wrong with it."""
    line: int
    record: EntryRecord | None
    problems: list[Problem]


def read_directory(content: bytes, gazetteer: Gazetteer, vocabulary: Vocabulary,
                   *, skip_invalid: bool = False) -> ParsedFile:
    """Parses and validates a whole file. Raises FileError when it cannot be read at all."""
    result = ParsedFile()
    for row in scan_directory(content, gazetteer, vocabulary):
        result.total_rows += 1
        if row.problems or row.record is None:
            result.problems.extend(row.problems)
            result.invalid_lines += 1
        else:
            result.records.append(row.record)
    return result


def scan_directory(source: bytes | BinaryIO, gazetteer: Gazetteer,
                   vocabulary: Vocabulary) -> Iterator[Row]:
    """Reads a file row by row, holding one row at a time (and the ids seen, for duplicates):
    a large file is validated in bounded memory. The delimiter is the one that makes the
    header read best: `,` (the format), `;` (Excel in Belgium and France) or a tab. Raises
    FileError when the file cannot be read at all."""
    lines = _text_lines(source)
    first = next(lines, "")
    rows = _CsvRows(itertools.chain([first], lines), _delimiter(first))
    header, mapping, second = _read_header(rows)
    seen_ids: dict[str, int] = {}
    found = False
    pending = [second] if second is not None else []
    while True:
        item = pending.pop() if pending else rows.next()
        if item is None:
            break
        line, cells, error = item
        if error is not None:
            found = True
            yield Row(line, None, [error])
            continue
        if not any(cell.strip() for cell in cells):
            continue
        found = True
        record, problems = parse_row(cells, line, header, mapping, gazetteer, vocabulary)
        if record is not None and record.id in seen_ids:
            problems.append(Problem(line, "id", _("duplicate id {id!r} (first on line {first})")
                                    .format(id=record.id, first=seen_ids[record.id])))
        if record is not None and not problems:
            seen_ids[record.id] = line
        yield Row(line, None if problems else record, problems)
    if not found:
        raise FileError(_("the file has a header but no entries"))


def _read_header(rows: _CsvRows) -> tuple[list[str], dict[int, str], _CsvRow | None]:
    """The header, its columns' names by position, and the first row after it unless that
    is the HXL hashtag row."""
    header_row = rows.next()
    if header_row is not None and header_row[2] is not None:
        raise FileError(str(header_row[2]))
    if header_row is None or not any(cell.strip() for cell in header_row[1]):
        raise FileError(_("the file is empty: it needs a header row and at least one entry"))
    header = [unescape(cell.strip()) for cell in header_row[1]]
    if any(NUL in cell for cell in header):
        raise FileError(str(Problem(1, None, nul_problem())))
    second = rows.next()
    hashtags: list[str] = []
    if second is not None and _is_hashtag_row(second[1]):
        hashtags, second = [cell.strip() for cell in second[1]], None
    mapping = _map_columns(header, hashtags)
    missing = [name for name in REQUIRED if name not in mapping.values()]
    if missing:
        raise FileError(_("line 1: missing required column(s): {columns}").format(
            columns=", ".join(missing)))
    return header, mapping, second


def _text_lines(source: bytes | BinaryIO) -> Iterator[str]:
    raw = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
    head = raw.read(3)
    if not head.strip() and not raw.read(1 << 16).strip():
        raise FileError(_("the file is empty: it needs a header row and at least one entry"))
    raw.seek(0)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileError(_("the file is UTF-16; save it as \"CSV UTF-8\" and send it again"))
    # Undecodable bytes become surrogates, so that the line they are on can be named.
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")
    try:
        for line, chunk in enumerate(text, start=1):
            if _UNDECODED.search(chunk):
                raise FileError(_("line {line}: the file is not UTF-8 (it looks like another "
                                  "encoding, e.g. Windows-1252); save it as \"CSV UTF-8\" and "
                                  "send it again").format(line=line))
            yield chunk
    finally:
        text.detach()


def _delimiter(header_line: str) -> str:
    """The candidate that finds the most known column names (then the most columns); `,`
    when nothing tells them apart."""
    best, best_score = ",", (-1, 0)
    for delimiter in (",", ";", "\t"):
        cells = next(csv.reader([header_line], delimiter=delimiter), [])
        known = sum(1 for cell in cells if cell.strip().lower() in _BY_NAME)
        score = (known, len(cells))
        if score > best_score:
            best, best_score = delimiter, score
    return best


# A row as read: its first line, its cells, the problem that kept it from being read.
_CsvRow = tuple[int, list[str], Problem | None]


class _CsvRows:
    """csv.reader with the physical line each row starts on. A row the csv module refuses
    (a cell over its 131,072-character limit) becomes a problem on that line, and reading
    goes on with the next line."""

    def __init__(self, lines: Iterator[str], delimiter: str) -> None:
        self.reader = csv.reader(lines, delimiter=delimiter)
        self.previous_end = 0

    def next(self) -> _CsvRow | None:
        line = self.previous_end + 1
        try:
            cells = next(self.reader)
        except StopIteration:
            return None
        except csv.Error:
            self.previous_end = self.reader.line_num
            return line, [], Problem(line, None, _("the cell is longer than {n} characters")
                                     .format(n=MAX_CELL))
        self.previous_end = self.reader.line_num
        return line, cells, None


def _is_hashtag_row(row: list[str]) -> bool:
    for cell in row:
        if cell.strip():
            return cell.strip().startswith("#")
    return False


def _map_columns(header: list[str], hashtags: list[str]) -> dict[int, str]:
    """Column position → known column name, matched by name first, else by hashtag."""
    mapping: dict[int, str] = {}
    for position, name in enumerate(header):
        key = name.strip().lower()
        if key in _BY_NAME and key not in mapping.values():
            mapping[position] = key
            continue
        if position < len(hashtags) and hashtags[position].startswith("#"):
            known = _BY_TAG.get(hashtag_key(hashtags[position]))
            if known and known not in mapping.values():
                mapping[position] = known
    return mapping


def write_directory(records: list[EntryRecord]) -> bytes:
    """Both header rows, one line per entry, unknown columns after the known ones; cells that
    a spreadsheet would run as a formula are prefixed with `'` (import removes it)."""
    extra = list(dict.fromkeys(name for r in records for name in r.attributes))
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([name for name, _tag in COLUMNS] + [_escape(name) for name in extra])
    writer.writerow([tag for _name, tag in COLUMNS] + [_extra_tag(name) for name in extra])
    for record in records:
        writer.writerow([_escape(cell) for cell in _cells(record)]
                        + [_escape(record.attributes.get(name, "")) for name in extra])
    return buffer.getvalue().encode("utf-8")


def _extra_tag(name: str) -> str:
    slug = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_") or "extra"
    return f"#meta+{slug}"


def _escape(cell: str) -> str:
    return "'" + cell if formula_like(cell) else cell


def _cells(record: EntryRecord) -> list[str]:
    includes = [c for c in record.coverage if not c.startswith("-")]
    excludes = [c for c in record.coverage if c.startswith("-")]
    names = record.organisation_names
    return [
        record.id, record.organisation, names.get("fr", ""), names.get("nl", ""),
        names.get("de", ""), names.get("en", ""), record.acronym, record.org_type,
        record.service, ";".join(record.topics), ";".join(includes + excludes),
        ";".join(record.keywords), ";".join(record.languages), record.contact_name,
        record.email, record.phone, record.url, record.address, record.matrix,
        record.telegram, record.status,
        record.last_verified.isoformat() if record.last_verified else "",
        *(record.services.get(lang, "") for lang in SERVICE_LANGUAGES),
        record.hours, ";".join(record.source),
        record.checked_on.isoformat() if record.checked_on else "",
    ]
