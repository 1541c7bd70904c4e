"""The live feed's CSV bodies (UTF-8, header row + HXL row): the directory's public columns,
and a form's round aggregates. Pure functions of loaded data, no HTTP here.

Public columns: what a guest sees in the chat. A named contact person, their Matrix and
Telegram handles are left out; the phone and e-mail only when the entry names nobody (then
they are the organisation's own channels). Round aggregates come from `summary_table` (the
XLSX summary sheet): totals and counts, per region only for questions not holding personal
data; no texts, no names, no per-person rows."""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
from dataclasses import dataclass
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.checkins.reports import FORMULA_START, safe_cell, summary_table
from bot.directory.csvformat import COLUMNS
from bot.directory.records import EntryRecord

if TYPE_CHECKING:
    from bot.checkins.forms import Form
    from bot.checkins.models import CheckinRound

PRIVATE_COLUMNS = {"contact_name", "matrix", "telegram"}
NAMED_ONLY = {"email", "phone"}   # shown when the entry names no contact person
DIRECTORY_COLUMNS = [(name, tag) for name, tag in COLUMNS if name not in PRIVATE_COLUMNS]
ROUND_COLUMNS = [("form", "#meta+form"), ("round", "#meta+round"),
                 ("deadline", "#date+deadline"), ("question", "#indicator+code"),
                 ("hxl", "#meta+hxl"), ("region", "#adm1+code"), ("item", "#indicator+type"),
                 ("value", "#indicator+value+num")]


@dataclass(frozen=True)
class Body:
    """A feed response ready to send: plain and gzip bodies, a strong ETag."""

    data: bytes
    gzipped: bytes
    etag: str

    @classmethod
    def of(cls, data: bytes) -> Body:
        return cls(data, gzip.compress(data, compresslevel=5, mtime=0),
                   '"' + hashlib.sha256(data).hexdigest()[:32] + '"')


def _write(header: list[str], tags: list[str], rows: Iterable[Iterable[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerow(tags)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def directory_csv(entries: list[EntryRecord]) -> bytes:
    from operator import itemgetter

    from bot.directory.csvformat import _cells   # the one place cells are laid out

    names = [name for name, _tag in COLUMNS]
    keep = itemgetter(*[i for i, name in enumerate(names) if name not in PRIVATE_COLUMNS])
    hide = [i for i, name in enumerate(names) if name in NAMED_ONLY]

    def rows() -> Iterator[list[str]]:
        # Inline rather than a function per cell: 10,000 entries × 27 cells.
        for entry in entries:
            cells = _cells(entry)
            if entry.contact_name:
                for i in hide:
                    cells[i] = ""
            yield ["'" + c if c and c[0] in FORMULA_START else c for c in keep(cells)]

    return _write([n for n, _t in DIRECTORY_COLUMNS], [t for _n, t in DIRECTORY_COLUMNS],
                  rows())


def rounds_csv(code: str, form_of: Callable[[CheckinRound], Form],
               history: list[tuple[CheckinRound, dict[str, Any]]],
               deadline_text: Callable[[CheckinRound], str]) -> bytes:
    """One line per figure per round: responses first, then every question's aggregates."""
    rows: list[list[Any]] = []
    for round_, result in history:
        lead = [code, round_.number, deadline_text(round_)]
        rows += [lead + ["_responses", "", "", item, result.get(item, 0)]
                 for item in ("assigned", "submitted", "late", "rate")]
        rows += [lead + ["_responses", "", region, item, counts.get(item, 0)]
                 for region, counts in sorted((result.get("regions") or {}).items())
                 for item in ("assigned", "submitted")]
        for question, hxl, region, item, value, *_labels in summary_table(form_of(round_),
                                                                         result)[1:]:
            rows.append(lead + [question, hxl, region, item, value])
    return _write([n for n, _t in ROUND_COLUMNS], [t for _n, t in ROUND_COLUMNS],
                  ([safe_cell(v) for v in line] for line in rows))


def http_date(moment: datetime) -> str:
    from email.utils import format_datetime
    return format_datetime(moment.replace(microsecond=0), usegmt=True)
