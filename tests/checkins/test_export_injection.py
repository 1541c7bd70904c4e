"""Spreadsheet formula injection: every cell of the check-in exports that starts with
= + - @ (or a tab / carriage return) is written as text, in CSV and in every XLSX sheet."""
from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from bot.checkins import reports

HOSTILE = ["=HYPERLINK(\"http://evil\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


def test_csv_and_every_xlsx_sheet_escape_formula_cells():
    header, tags = ["respondent", "note"], ["#contact+name", "#meta+note"]
    data = [[reports.safe_cell(v), reports.safe_cell(v)] for v in HOSTILE] + [["plain", 3]]
    summary = [["question", "value"]] + [[reports.safe_cell(v), 1] for v in HOSTILE]
    meta = {"form": HOSTILE[0], "round": 1}
    rows = list(csv.reader(io.StringIO(reports.to_csv(header, tags, data).decode("utf-8-sig"))))
    assert all(cell.startswith("'") for row in rows[2:-1] for cell in row)
    assert rows[-1] == ["plain", "3"]
    workbook = load_workbook(io.BytesIO(reports.to_xlsx(header, tags, data, summary, meta)))
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows(values_only=True):
            for value in row:
                if isinstance(value, str):
                    assert not value.startswith(reports.FORMULA_START), (sheet.title, value)
    responses = workbook["responses"]
    assert responses.cell(3, 1).value == "'" + HOSTILE[0]
    assert responses.cell(3, 1).data_type == "s"  # text, not a formula
    assert workbook["round"].cell(1, 2).value == "'" + HOSTILE[0]
