"""Exports (CSV with an HXL row, XLSX) and the chart of a form's main figures over its last
rounds (matplotlib, Agg backend, PNG). Pure functions of already-loaded data, run in a thread
by the handlers since they are CPU-bound.

Per-respondent rows leave out questions that hold personal data; those appear only in the
summary sheet as aggregates. Cells starting with `= + - @` (or tab/CR) are prefixed with `'`
so that a spreadsheet never runs them as formulas (CSV injection)."""
from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.checkins.forms import Form
from bot.checkins.models import SUBMITTED, aware

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FIXED_COLUMNS = [("round", "#meta+round"), ("respondent", "#contact+name"),
                 ("organisation", "#org+id"), ("region", "#loc+code"),
                 ("submitted_at", "#date+submitted"), ("late", "#meta+late")]


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _cell(question, value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(str(v) for v in value)  # XLSForm's select_multiple convention
    if isinstance(value, float) and value.is_integer() and question.type == "integer":
        return int(value)
    return value


def response_table(form: Form, round_number: int, rows: list[tuple[Any, Any]],
                   tz: ZoneInfo) -> tuple[list[str], list[str], list[list[Any]]]:
    """(column names, HXL tags, data rows) for the submitted answers of one round."""
    questions = [q for q in form.answerable if not q.personal]
    header = [name for name, _tag in FIXED_COLUMNS] + [q.name for q in questions]
    tags = [tag for _name, tag in FIXED_COLUMNS] + [q.hxl or "" for q in questions]
    data = []
    for assignment, user in rows:
        if assignment.status != SUBMITTED:
            continue
        answers = assignment.answers or {}
        submitted = aware(assignment.submitted_at)
        line = [round_number, user.display_name, user.organisation_id or "",
                assignment.region or "",
                submitted.astimezone(tz).isoformat(timespec="minutes") if submitted else "",
                "yes" if assignment.late else "no"]
        line += [_cell(q, answers.get(q.name)) for q in questions]
        data.append([safe_cell(value) for value in line])
    return header, tags, data


def to_csv(header: list[str], tags: list[str], data: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerow(tags)
    writer.writerows(data)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def summary_table(form: Form, result: dict[str, Any]) -> list[list[Any]]:
    """question, region, item, value: the aggregates, personal-data questions included."""
    table: list[list[Any]] = [["question", "hxl", "region", "item", "value"]]
    for q in form.answerable:
        figures = result["questions"].get(q.name) or {}
        table.append([q.name, q.hxl or "", "", "answered", figures.get("answered", 0)])
        if "total" in figures:
            table.append([q.name, q.hxl or "", "", "total", figures["total"]])
            table += [[q.name, q.hxl or "", r, "total", v]
                      for r, v in (figures.get("by_region") or {}).items()]
        for item, count in (figures.get("counts") or {}).items():
            table.append([q.name, q.hxl or "", "", item, count])
        if "counts" in figures:
            table += [[q.name, q.hxl or "", r, item, count]
                      for r, counts in (figures.get("by_region") or {}).items()
                      for item, count in counts.items()]
    return [[safe_cell(value) for value in line] for line in table]


def to_xlsx(header: list[str], tags: list[str], data: list[list[Any]],
            summary: list[list[Any]], meta: dict[str, Any]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "responses"
    sheet.append(header)
    sheet.append(tags)
    for line in data:
        sheet.append(line)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    totals = workbook.create_sheet("summary")
    for line in summary:
        totals.append(line)
    info = workbook.create_sheet("round")
    for key, value in meta.items():
        info.append([key, safe_cell(str(value))])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def chart_png(title: str, series: dict[str, list[tuple[str, float]]],
              no_data: str) -> bytes:
    """One line per figure, one point per round (x labels are round names)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4.5), dpi=100)
    axes = figure.add_subplot(1, 1, 1)
    if not any(series.values()):
        axes.text(0.5, 0.5, no_data, ha="center", va="center")
        axes.set_axis_off()
    for label, points in series.items():
        if points:
            axes.plot([x for x, _y in points], [y for _x, y in points], marker="o",
                      label=label[:60])
    if any(series.values()):
        axes.legend(fontsize="small", loc="best")
        axes.grid(True, alpha=0.3)
    axes.set_title(title[:90])
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def timestamp(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y%m%d-%H%M")
