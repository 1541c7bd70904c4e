"""Exports (CSV with an HXL row, XLSX) and the chart of a form's main figures over its last
rounds (matplotlib, Agg backend, PNG). Pure functions of already-loaded data, run in a thread
by the handlers since they are CPU-bound.

Per-respondent rows leave out questions that hold personal data; those appear only in the
summary sheet as aggregates. Cells starting with `= + - @` (or tab/CR) are prefixed with `'`
so that a spreadsheet never runs them as formulas (CSV injection)."""
from __future__ import annotations

import csv
import io
import textwrap
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.checkins.forms import Form, Question
from bot.checkins.models import SUBMITTED

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FIXED_COLUMNS = [("round", "#meta+round"), ("respondent", "#contact+name"),
                 ("organisation", "#org+id"), ("region", "#loc+code"),
                 ("submitted_at", "#date+submitted"), ("late", "#meta+late")]


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _cell(question: Question, value: Any) -> Any:
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
        submitted = assignment.submitted_at
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


def summary_table(form: Form, result: dict[str, Any],
                  labels: Labels | None = None) -> list[list[Any]]:
    """question, hxl, region, item, value — the aggregates, personal-data questions included —
    then, for a person reading the sheet, the question and the item in the reader's language
    (the first five columns stay codes for machines)."""
    labels = labels or Labels(form, "en")
    table: list[list[Any]] = [["question", "hxl", "region", "item", "value",
                               "question_label", "item_label"]]

    def row(q: Question, region: str, item: str, value: Any) -> list[Any]:
        return [q.name, q.hxl or "", region, item, value, labels.question(q),
                labels.item(q, item)]

    for q in form.answerable:
        figures = result["questions"].get(q.name) or {}
        table.append(row(q, "", "answered", figures.get("answered", 0)))
        if "total" in figures:
            table.append(row(q, "", "total", figures["total"]))
            table += [row(q, r, "total", v) for r, v in (figures.get("by_region") or {}).items()]
        for item, count in (figures.get("counts") or {}).items():
            table.append(row(q, "", item, count))
        if "counts" in figures:
            table += [row(q, r, item, count)
                      for r, counts in (figures.get("by_region") or {}).items()
                      for item, count in counts.items()]
    return [[safe_cell(value) for value in line] for line in table]


class Labels:
    """The words a coordinator reads for the export's codes: column names, answer codes, and
    the summary's items, in one language (`words` translates the fixed ones)."""

    def __init__(self, form: Form, locale: str, words: dict[str, str] | None = None):
        self.form, self.locale, self.words = form, locale, words or {}

    def question(self, q: Question) -> str:
        return q.label(self.locale, self.form.default_language)

    def item(self, q: Question, item: str) -> str:
        option = q.option(item) if q.is_choice else None
        if option is not None:
            return option.label(self.locale, self.form.default_language)
        return self.words.get(item, item)

    def codebook(self, header: list[str]) -> list[list[Any]]:
        """column, label, then each answer code of the choice questions with its label."""
        questions = {q.name: q for q in self.form.answerable}
        rows: list[list[Any]] = [["column", "label", "value", "value_label"]]
        for name in header:
            q = questions.get(name)
            rows.append([name, self.question(q) if q else self.words.get(name, name), "", ""])
            for option in (q.options if q is not None and q.is_choice else []):
                rows.append([name, "", option.name,
                             option.label(self.locale, self.form.default_language)])
        return [[safe_cell(value) for value in line] for line in rows]


def to_xlsx(header: list[str], tags: list[str], data: list[list[Any]],
            summary: list[list[Any]], meta: dict[str, Any],
            codebook: list[list[Any]] | None = None) -> bytes:
    """Sheets: responses (codes and the HXL row, as in the CSV), summary, round, and labels:
    what each column and answer code means in the coordinator's language."""
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
    if codebook:
        words = workbook.create_sheet("labels")
        for line in codebook:
            words.append(line)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def chart_png(title: str, series: dict[str, list[tuple[str, float]]],
              no_data: str, shares: dict[str, list[tuple[str, float]]] | None = None,
              axis_labels: tuple[str, str] = ("", "%")) -> bytes:
    """The chart as a PNG; the image grows to hold the legend, so no label is cut."""
    figure = chart_figure(title, series, no_data, shares, axis_labels)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def chart_figure(title: str, series: dict[str, list[tuple[str, float]]],
                 no_data: str, shares: dict[str, list[tuple[str, float]]] | None = None,
                 axis_labels: tuple[str, str] = ("", "%")) -> Any:
    """One line per figure, one point per round (x labels are round names). Counts of people
    and places share the left axis; percentages (`shares`, averages) get their own right axis,
    so a share of 60 % never reads as 60 people. The legend sits under the plot, labels
    wrapped."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    shares = {label: points for label, points in (shares or {}).items() if points}
    counts = {label: points for label, points in series.items() if points}
    figure = Figure(figsize=(8, 4.5), dpi=100)
    axes = figure.add_subplot(1, 1, 1)
    axes.set_title(textwrap.fill(title, 70))
    if not counts and not shares:
        axes.text(0.5, 0.5, no_data, ha="center", va="center")
        axes.set_axis_off()
    colours = iter(matplotlib.rcParams["axes.prop_cycle"].by_key()["color"] * 4)
    lines = _plot(axes, counts, "o", "-", colours)
    if counts:
        axes.set_ylabel(axis_labels[0])
        axes.grid(True, alpha=0.3)
    if shares:
        right = axes.twinx() if counts else axes
        lines += _plot(right, shares, "s", "--", colours)
        right.set_ylabel(axis_labels[1])
        right.set_ylim(0, 100)
    if lines:
        figure.legend(handles=lines, loc="upper center", bbox_to_anchor=(0.5, 0.0),
                      fontsize="small", ncol=1, frameon=False)
    return figure


def _plot(axes: Any, series: dict[str, list[tuple[str, float]]], marker: str, style: str,
          colours: Any) -> list[Any]:
    """Both axes draw from one colour sequence, so no two lines look alike."""
    handles = []
    for label, points in series.items():
        handles += axes.plot([x for x, _y in points], [y for _x, y in points], marker=marker,
                             linestyle=style, color=next(colours),
                             label=textwrap.fill(label, 60))
    return handles


def timestamp(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y%m%d-%H%M")
