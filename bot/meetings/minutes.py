"""`/minutes`: one meeting's decisions and actions as a document in the reader's language,
Markdown (readable anywhere) and DOCX (python-docx) for those who edit minutes in Word."""
from __future__ import annotations

import io
from datetime import date

from babel.dates import format_date

from bot.i18n import _, current_locale
from bot.meetings.models import OPEN, MeetingItem
from bot.meetings.service import Minutes
from bot.meetings.texts import STATUS_LABELS, action_id, due_of
from bot.reminders.formatting import BABEL_LOCALES, moment


def long_date(occurrence: str) -> str:
    return format_date(date.fromisoformat(occurrence), "EEEE d MMMM y",
                       locale=BABEL_LOCALES.get(current_locale(), "en_GB"))


def _plain(text: str) -> str:
    """Markdown tables and lists take one line; a cell cannot hold a pipe."""
    return " ".join(text.split()).replace("|", "/")


def _status(item: MeetingItem) -> str:
    return _(STATUS_LABELS.get(item.status or OPEN, STATUS_LABELS[OPEN]))


def title(minutes: Minutes) -> str:
    return _("Minutes of “{title}”, {date}").format(title=minutes.schedule.title,
                                                    date=long_date(minutes.occurrence))


def rows(minutes: Minutes, owners: dict[int, str], tz: str) -> list[list[str]]:
    return [[action_id(item.id), _plain(item.text), owners.get(item.id, ""),
             moment(due_of(item), tz), _status(item)] for item in minutes.actions]


def headers() -> list[str]:
    return [_("No."), _("Action"), _("Owner"), _("Due"), _("Status")]


def markdown(minutes: Minutes, owners: dict[int, str], tz: str) -> str:
    lines = [f"# {_plain(title(minutes))}", ""]
    if minutes.agenda:
        lines += [f"## {_('Agenda')}", ""]
        lines += [f"{n}. {_plain(i.text)}" for n, i in enumerate(minutes.agenda, 1)] + [""]
    lines += [f"## {_('Decisions')}", ""]
    lines += [f"{n}. {_plain(i.text)}" for n, i in enumerate(minutes.decisions, 1)] or \
        [_("No decision recorded.")]
    lines += ["", f"## {_('Actions')}", ""]
    table = rows(minutes, owners, tz)
    if table:
        lines += ["| " + " | ".join(headers()) + " |", "|" + "---|" * len(headers())]
        lines += ["| " + " | ".join(row) + " |" for row in table]
    else:
        lines.append(_("No action recorded."))
    return "\n".join(lines) + "\n"


def docx(minutes: Minutes, owners: dict[int, str], tz: str) -> bytes:
    from docx import Document

    document = Document()
    document.add_heading(title(minutes), level=1)
    if minutes.agenda:
        document.add_heading(_("Agenda"), level=2)
        for item in minutes.agenda:
            document.add_paragraph(item.text, style="List Number")
    document.add_heading(_("Decisions"), level=2)
    for item in minutes.decisions:
        document.add_paragraph(item.text, style="List Number")
    if not minutes.decisions:
        document.add_paragraph(_("No decision recorded."))
    document.add_heading(_("Actions"), level=2)
    table_rows = rows(minutes, owners, tz)
    if table_rows:
        table = document.add_table(rows=1, cols=len(headers()))
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, headers(), strict=False):
            cell.text = text
        for row in table_rows:
            for cell, text in zip(table.add_row().cells, row, strict=False):
                cell.text = text
    else:
        document.add_paragraph(_("No action recorded."))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
