"""Checking one row of a directory file (docs/directory-format.md): every cell against its
column's rules, with a `Problem` per mistake, and the `EntryRecord` of a valid row."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from bot.directory.gazetteer import Gazetteer
from bot.directory.records import (NAME_LANGUAGES, ORG_TYPES, SERVICE_LANGUAGES, STATUSES,
                                   EntryRecord)
from bot.directory.vocabulary import Vocabulary
from bot.i18n import _

REQUIRED = ("id", "organisation", "topics", "coverage")
_ID = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_LANGUAGE = re.compile(r"^[a-z]{2}$")
_EMAIL = re.compile(r"^[^@\s;]+@[^@\s;]+\.[^@\s;]+$")
_MATRIX = re.compile(r"^@[^:\s]+:[^\s]+$")
_TELEGRAM = re.compile(r"^@?[A-Za-z0-9_]{4,32}$")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_CHARS = ("=", "+", "-", "@")
MAX_CELL = 2000
NUL = "\x00"


def nul_problem() -> str:
    return _("the cell holds a NUL character (an invisible control character): remove it and "
             "send the file again")


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


def formula_like(cell: str) -> bool:
    """Whether a spreadsheet could run the cell as a formula: it starts with `=`, `+`, `-`,
    `@`, a tab or a carriage return, possibly behind invisible characters (a BOM, a
    zero-width or non-breaking space) that the eye, and some spreadsheets, skip."""
    if not cell:
        return False
    if cell[0] in _FORMULA_START:
        return True
    visible = cell.lstrip(" \n")
    while visible and unicodedata.category(visible[0]) in ("Cf", "Zs", "Cc"):
        visible = visible[1:]
    return visible[:1] in _FORMULA_CHARS and visible != cell


def unescape(cell: str) -> str:
    """Undoes the export's protection against spreadsheet formulas ("'=…" → "=…")."""
    if cell.startswith("'") and formula_like(cell[1:]):
        return cell[1:]
    return cell


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part.strip()]


def parse_row(row: list[str], line: int, header: list[str], mapping: dict[int, str],
               gazetteer: Gazetteer, vocabulary: Vocabulary
               ) -> tuple[EntryRecord | None, list[Problem]]:
    problems: list[Problem] = []
    values, attributes = _cell_values(row, line, header, mapping, problems)
    for name in REQUIRED:
        if not values.get(name):
            problems.append(Problem(line, name, _("required value missing")))
    entry_id = values.get("id", "")
    if entry_id and not _ID.match(entry_id):
        problems.append(Problem(line, "id", _("{value!r} is not a valid id (letters, digits, "
                                              "-, _ and . only)").format(value=entry_id)))
    topics = _topics(values, line, vocabulary, problems)
    coverage = _coverage(values, line, gazetteer, problems)
    org_type, status, languages = _choices(values, line, problems)
    last_verified = _date(values, "last_verified", line, problems)
    checked_on = _date(values, "checked_on", line, problems)
    _check_contacts(values, line, problems)
    if problems:
        return None, problems
    return EntryRecord(
        id=entry_id,
        organisation=values["organisation"],
        organisation_names={lang: values[f"organisation_{lang}"] for lang in NAME_LANGUAGES
                            if values.get(f"organisation_{lang}")},
        acronym=values.get("acronym", ""),
        org_type=org_type,
        service=values.get("service", ""),
        topics=tuple(dict.fromkeys(topics)),
        coverage=tuple(dict.fromkeys(coverage)),
        keywords=tuple(_split(values.get("keywords", ""))),
        languages=tuple(dict.fromkeys(languages)),
        contact_name=values.get("contact_name", ""),
        email=values.get("email", ""),
        phone=values.get("phone", ""),
        url=values.get("url", ""),
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
    ), []


def _cell_values(row: list[str], line: int, header: list[str], mapping: dict[int, str],
                 problems: list[Problem]) -> tuple[dict[str, str], dict[str, str]]:
    """The row's cells by column name, and its extra columns (attributes) by header."""
    values: dict[str, str] = {}
    attributes: dict[str, str] = {}
    for position, raw in enumerate(row):
        cell = unescape(raw.strip())
        if NUL in cell:  # the row is refused; the rest of the cell is still checked
            problems.append(Problem(line, mapping.get(position) or _header(header, position),
                                    nul_problem()))
            cell = cell.replace(NUL, "")
        if len(cell) > MAX_CELL:
            problems.append(Problem(line, mapping.get(position) or _header(header, position),
                                    _("the cell is longer than {n} characters").format(n=MAX_CELL)))
            continue
        name = mapping.get(position)
        if name:
            values[name] = cell
        elif cell:
            attributes[_header(header, position)] = cell
    return values, attributes


def _topics(values: dict[str, str], line: int, vocabulary: Vocabulary,
            problems: list[Problem]) -> list[str]:
    topics = _split(values.get("topics", ""))
    for topic in topics:
        if topic not in vocabulary.topic_codes:
            problems.append(Problem(line, "topics", _("unknown topic code {code!r}; known: "
                                                      "{known}").format(
                code=topic, known=", ".join(sorted(vocabulary.topic_codes)))))
    return topics


def _coverage(values: dict[str, str], line: int, gazetteer: Gazetteer,
              problems: list[Problem]) -> list[str]:
    """The coverage codes as stored (letters upper-case, `-` for an exclusion)."""
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
    return canonical_coverage


def _choices(values: dict[str, str], line: int,
             problems: list[Problem]) -> tuple[str, str, list[str]]:
    """Organisation type, status and languages, each from its list of allowed values."""
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
    return org_type, status, languages


def _check_contacts(values: dict[str, str], line: int, problems: list[Problem]) -> None:
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
