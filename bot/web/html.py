"""A few helpers to build escaped HTML. Every value goes through `h()`; markup is assembled
only from these helpers and literal tags, so no text from the database reaches the page
unescaped."""
from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

from bot.i18n import _, current_locale


def h(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def table(headers: list[str], rows: Iterable[list[Any]], *, numeric_from: int = 1,
          caption: str = "", raw: set[int] | None = None) -> str:
    """A data table; cells from column `numeric_from` on are right-aligned; columns listed in
    `raw` hold HTML already built with these helpers."""
    raw = raw or set()
    head = "".join(f'<th scope="col"{_num(i, numeric_from)}>{h(text)}</th>'
                   for i, text in enumerate(headers))
    body = "".join("<tr>" + "".join(
        f"<td{_num(i, numeric_from)}>{cell if i in raw else h(cell)}</td>"
        for i, cell in enumerate(row)) + "</tr>" for row in rows)
    cap = f"<caption>{h(caption)}</caption>" if caption else ""
    return (f'<div class="scroll"><table class="data">{cap}<thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


def _num(index: int, numeric_from: int) -> str:
    return ' class="num"' if index >= numeric_from else ""


def heading(text: str) -> str:
    return f"<h2>{h(text)}</h2>"


def para(text: str, css: str = "") -> str:
    return f'<p class="{h(css)}">{h(text)}</p>' if css else f"<p>{h(text)}</p>"


def meter(value: float) -> str:
    """A response-rate bar without inline styles (the CSP forbids them)."""
    return f'<meter min="0" max="1" low="0.5" high="0.8" optimum="1" value="{value:.4f}">' \
           f"{round(100 * value)} %</meter>"


def percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)} %" if whole else "—"


def number(value: Any) -> str:
    """As the reader writes numbers, exactly as `/results` shows them."""
    from bot.checkins.forms import number_for
    from bot.i18n import current_locale

    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return number_for(round(value, 2) if isinstance(value, float) else value,
                          current_locale())
    return str(value)


def bar_chart(title: str, points: list[tuple[str, float]]) -> str:
    """An inline SVG bar chart of one figure over rounds, with a text alternative."""
    if not points:
        return ""
    width, height, pad = 320, 120, 18
    top = max((abs(y) for _x, y in points), default=0) or 1
    step = (width - 2 * pad) / len(points)
    bars = []
    for i, (label, value) in enumerate(points):
        bar = max(1.0, (height - 2 * pad) * abs(value) / top)
        x = pad + i * step + step * 0.15
        bars.append(
            f'<rect x="{x:.1f}" y="{height - pad - bar:.1f}" width="{step * 0.7:.1f}" '
            f'height="{bar:.1f}"><title>{h(label)}: {h(number(value))}</title></rect>'
            f'<text x="{x + step * 0.35:.1f}" y="{height - 4}" text-anchor="middle">'
            f"{h(label)}</text>")
    summary = ", ".join(f"{label}: {number(value)}" for label, value in points)
    return (f'<figure class="chart"><figcaption>{h(title)}</figcaption>'
            f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{h(summary)}">'
            f'{"".join(bars)}</svg></figure>')


def page(title: str, body: str, *, nav: Sequence[tuple[str, str]] = (), csrf: str = "",
         user_name: str = "") -> str:
    links = "".join(f'<a href="{h(href)}">{h(text)}</a>' for href, text in nav)
    logout = ""
    if csrf:
        label = _("Log out")
        logout = (f'<form method="post" action="/logout" class="logout">'
                  f'<input type="hidden" name="csrf" value="{h(csrf)}">'
                  f'<button type="submit">{h(label)}</button></form>')
    who = f'<span class="who">{h(user_name)}</span>' if user_name else ""
    filter_label = _("Filter")
    return (f'<!doctype html><html lang="{h(current_locale())}" data-filter="{h(filter_label)}">'
            '<head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="referrer" content="same-origin">'
            f"<title>{h(title)} · coordbot</title>"
            '<link rel="stylesheet" href="/static/app.css">'
            '<script src="/static/app.js" defer></script></head><body>'
            f'<header><nav>{links}</nav>{who}{logout}</header>'
            f"<main><h1>{h(title)}</h1>{body}</main></body></html>")
