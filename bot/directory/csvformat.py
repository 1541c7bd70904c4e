"""The directory interchange format (docs: the directory contract, "The file"): UTF-8 CSV with
an optional HXL hashtag row; columns matched by name or hashtag; unknown columns kept as free
attributes. Every problem is reported with its line and column; the caller decides whether a
file with problems changes anything (it does not, unless invalid rows are skipped)."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date

from bot.directory.gazetteer import Gazetteer
from bot.directory.records import (NAME_LANGUAGES, ORG_TYPES, SERVICE_LANGUAGES, STATUSES,
                                   EntryRecord)
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
REQUIRED = ("id", "organisation", "topics", "coverage")
_ID = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_LANGUAGE = re.compile(r"^[a-z]{2}$")
_EMAIL = re.compile(r"^[^@\s;]+@[^@\s;]+\.[^@\s;]+$")
_MATRIX = re.compile(r"^@[^:\s]+:[^\s]+$")
_TELEGRAM = re.compile(r"^@?[A-Za-z0-9_]{4,32}$")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_CELL = 2000


@dataclass(frozen=True)
class Problem:
    line: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(_("line {line}").format(line=self.line))
        if self.column:
            where.append(_("column {column}").format(column=self.column))
        return f"{', '.join(where)}: {self.message}" if where else self.message


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


def read_directory(content: bytes, gazetteer: Gazetteer, vocabulary: Vocabulary,
                   *, skip_invalid: bool = False) -> ParsedFile:
    """Parses and validates a whole file. Raises FileError when it cannot be read at all."""
    text = _decode(content)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    reader_lines = _line_numbers(text)
    if not rows or all(not any(cell.strip() for cell in row) for row in rows):
        raise FileError(_("the file is empty: it needs a header row and at least one entry"))
    header = [cell.strip() for cell in rows[0]]
    hashtags: list[str] = []
    first_data = 1
    if len(rows) > 1 and _is_hashtag_row(rows[1]):
        hashtags = [cell.strip() for cell in rows[1]]
        first_data = 2
    mapping = _map_columns(header, hashtags)
    missing = [name for name in REQUIRED if name not in mapping.values()]
    if missing:
        raise FileError(_("line 1: missing required column(s): {columns}").format(
            columns=", ".join(missing)))
    result = ParsedFile()
    seen_ids: dict[str, int] = {}
    for position in range(first_data, len(rows)):
        row = rows[position]
        line = reader_lines[position] if position < len(reader_lines) else position + 1
        if not any(cell.strip() for cell in row):
            continue
        result.total_rows += 1
        record, problems = _parse_row(row, line, header, mapping, gazetteer, vocabulary)
        if record is not None and record.id in seen_ids:
            problems.append(Problem(line, "id", _("duplicate id {id!r} (first on line {first})")
                                    .format(id=record.id, first=seen_ids[record.id])))
        if problems:
            result.problems.extend(problems)
            result.invalid_lines += 1
            continue
        seen_ids[record.id] = line
        result.records.append(record)
    if result.total_rows == 0:
        raise FileError(_("the file has a header but no entries"))
    return result


def _decode(content: bytes) -> str:
    if not content or not content.strip():
        raise FileError(_("the file is empty: it needs a header row and at least one entry"))
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileError(_("the file is UTF-16; save it as \"CSV UTF-8\" and send it again"))
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = content[:exc.start].count(b"\n") + 1
        raise FileError(_("line {line}: the file is not UTF-8 (it looks like another encoding, "
                          "e.g. Windows-1252); save it as \"CSV UTF-8\" and send it again")
                        .format(line=line)) from None


def _line_numbers(text: str) -> list[int]:
    """The physical line each CSV record starts on (quoted cells may span lines)."""
    starts = []
    reader = csv.reader(io.StringIO(text, newline=""))
    previous_end = 0
    for _row in reader:
        starts.append(previous_end + 1)
        previous_end = reader.line_num
    return starts


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


def _unescape(cell: str) -> str:
    """Undoes the export's protection against spreadsheet formulas ("'=…" → "=…")."""
    if cell.startswith("'") and cell[1:2] in _FORMULA_START and cell[1:2]:
        return cell[1:]
    return cell


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part.strip()]


def _parse_row(row, line, header, mapping, gazetteer: Gazetteer, vocabulary: Vocabulary):
    values: dict[str, str] = {}
    attributes: dict[str, str] = {}
    problems: list[Problem] = []
    for position, raw in enumerate(row):
        cell = _unescape(raw.strip())
        if len(cell) > MAX_CELL:
            problems.append(Problem(line, mapping.get(position) or _header(header, position),
                                    _("the cell is longer than {n} characters").format(n=MAX_CELL)))
            continue
        name = mapping.get(position)
        if name:
            values[name] = cell
        elif cell:
            attributes[_header(header, position)] = cell
    for name in REQUIRED:
        if not values.get(name):
            problems.append(Problem(line, name, _("required value missing")))
    entry_id = values.get("id", "")
    if entry_id and not _ID.match(entry_id):
        problems.append(Problem(line, "id", _("{value!r} is not a valid id (letters, digits, "
                                              "-, _ and . only)").format(value=entry_id)))
    topics = _split(values.get("topics", ""))
    for topic in topics:
        if topic not in vocabulary.topic_codes:
            problems.append(Problem(line, "topics", _("unknown topic code {code!r}; known: "
                                                      "{known}").format(
                code=topic, known=", ".join(sorted(vocabulary.topic_codes)))))
    coverage = _split(values.get("coverage", ""))
    canonical_coverage = []
    for code in coverage:
        bare = code[1:].strip() if code.startswith("-") else code
        if gazetteer.canonical(bare) is None:
            problems.append(Problem(line, "coverage", _("unknown area code {code!r} (use BE, an "
                                                        "ISO code like BE-WAL, a 5-digit NIS code, "
                                                        "DG, FWB or VG)").format(code=code)))
        canonical_coverage.append(("-" if code.startswith("-") else "") + bare.upper()
                                  if not bare.isdecimal() else code)
    if coverage and all(c.startswith("-") for c in coverage):
        problems.append(Problem(line, "coverage", _("only excluded areas: add at least one "
                                                    "covered area")))
    org_type = values.get("org_type", "").lower()
    if org_type and org_type not in ORG_TYPES:
        problems.append(Problem(line, "org_type", _("{value!r} is not one of {allowed}").format(
            value=org_type, allowed=", ".join(ORG_TYPES))))
    status = (values.get("status") or "active").lower()
    if status not in STATUSES:
        problems.append(Problem(line, "status", _("{value!r} is not one of {allowed}").format(
            value=status, allowed=", ".join(STATUSES))))
    languages = [code.lower() for code in _split(values.get("languages", ""))]
    for code in languages:
        if not _LANGUAGE.match(code):
            problems.append(Problem(line, "languages", _("{value!r} is not a two-letter language "
                                                         "code (ISO 639-1)").format(value=code)))
    last_verified = _date(values, "last_verified", line, problems)
    checked_on = _date(values, "checked_on", line, problems)
    for column, pattern, example in (("email", _EMAIL, "name@example.org"),
                                     ("matrix", _MATRIX, "@user:server.org"),
                                     ("telegram", _TELEGRAM, "@username")):
        value = values.get(column, "")
        if value and not pattern.match(value):
            problems.append(Problem(line, column, _("{value!r} does not look like {example}")
                                    .format(value=value, example=example)))
    url = values.get("url", "")
    if url and not url.lower().startswith(("http://", "https://")):
        problems.append(Problem(line, "url", _("{value!r} must start with https:// or http://")
                                .format(value=url)))
    if problems:
        return None, problems
    record = EntryRecord(
        id=entry_id,
        organisation=values["organisation"],
        organisation_names={lang: values[f"organisation_{lang}"] for lang in NAME_LANGUAGES
                            if values.get(f"organisation_{lang}")},
        acronym=values.get("acronym", ""),
        org_type=org_type,
        service=values.get("service", ""),
        topics=tuple(dict.fromkeys(topics)),
        coverage=tuple(dict.fromkeys(canonical_coverage)),
        keywords=tuple(_split(values.get("keywords", ""))),
        languages=tuple(dict.fromkeys(languages)),
        contact_name=values.get("contact_name", ""),
        email=values.get("email", ""),
        phone=values.get("phone", ""),
        url=url,
        address=values.get("address", ""),
        matrix=values.get("matrix", ""),
        telegram=values.get("telegram", "").lstrip("@"),
        status=status,
        last_verified=last_verified,
        attributes=attributes,
        services={lang: values[f"service_{lang}"] for lang in SERVICE_LANGUAGES
                  if values.get(f"service_{lang}")},
        hours=values.get("hours", ""),
        source=tuple(_split(values.get("source", ""))),
        checked_on=checked_on,
    )
    return record, []


def _date(values: dict[str, str], column: str, line: int, problems: list[Problem]) -> date | None:
    if not values.get(column):
        return None
    try:
        return date.fromisoformat(values[column][:10])
    except ValueError:
        problems.append(Problem(line, column, _("{value!r} is not a date like 2025-03-31")
                                .format(value=values[column])))
        return None


def _header(header: list[str], position: int) -> str:
    if position < len(header) and header[position]:
        return header[position]
    return f"column_{position + 1}"


def write_directory(records: list[EntryRecord]) -> bytes:
    """Both header rows, one line per entry, unknown columns after the known ones; cells that
    a spreadsheet would run as a formula are prefixed with `'` (import removes it)."""
    extra = list(dict.fromkeys(name for r in records for name in r.attributes))
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([name for name, _tag in COLUMNS] + extra)
    writer.writerow([tag for _name, tag in COLUMNS] + [_extra_tag(name) for name in extra])
    for record in records:
        writer.writerow([_escape(cell) for cell in _cells(record)]
                        + [_escape(record.attributes.get(name, "")) for name in extra])
    return buffer.getvalue().encode("utf-8")


def _extra_tag(name: str) -> str:
    slug = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_") or "extra"
    return f"#meta+{slug}"


def _escape(cell: str) -> str:
    return "'" + cell if cell and cell[0] in _FORMULA_START else cell


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
