"""Reply text for Telegram: the light markup rendered as HTML (escaped by `bot.markup`), cut
into messages that fit Telegram's limits at paragraph, line or word boundaries."""
from __future__ import annotations

import re

from bot.markup import to_html, to_plain

MAX_TEXT = 4096      # a message, counted in UTF-16 code units as Telegram does
MAX_CAPTION = 1024   # the caption of a document or photo


def telegram_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_markup(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces of `text` (light markup) whose HTML each fits `limit`. Cuts between paragraphs
    or lines when it can, between words otherwise; only a word longer than a whole message
    is cut inside."""
    pieces = [piece.strip("\n") for piece in _pack(text, limit, level=0)]
    return [piece for piece in pieces if piece.strip()]


_MARGIN = 64
_LEVELS = (re.compile(r"(?<=\n\n)"), re.compile(r"(?<=\n)"), re.compile(r"(?<=\s)(?=\S)"))


def _pack(text: str, limit: int, level: int) -> list[str]:
    if _html_length(text) <= limit:
        return [text]
    if level >= len(_LEVELS):
        return _hard_cut(text, limit)
    units = [u for u in _LEVELS[level].split(text) if u]
    if len(units) == 1:
        return _pack(text, limit, level + 1)
    pieces: list[str] = []
    current, current_length = "", 0
    for unit in units:
        unit_length = _html_length(unit)
        if current and current_length + unit_length > limit - _MARGIN:
            # Markup spanning units renders differently as a whole: measure exactly here.
            current_length = _html_length(current + unit) - unit_length
            if current_length + unit_length > limit:
                pieces.append(current)
                current, current_length = "", 0
        if unit_length > limit:
            pieces.extend(_pack(unit, limit, level + 1))
            continue
        current, current_length = current + unit, current_length + unit_length
    if current:
        pieces.append(current)
    # A safety net: a piece that still does not fit is cut further.
    return [part for piece in pieces for part in
            ([piece] if _html_length(piece) <= limit else _pack(piece, limit, level + 1))]


def _hard_cut(text: str, limit: int) -> list[str]:
    pieces, current = [], ""
    for char in text:
        if current and _html_length(current + char) > limit:
            pieces.append(current)
            current = ""
        current += char
    return pieces + ([current] if current else [])


def _html_length(text: str) -> int:
    return telegram_length(to_html(text))


def render(piece: str) -> tuple[str, str]:
    """(HTML, plain text) of one piece; the plain text is the fallback if HTML is refused."""
    return to_html(piece), to_plain(piece)
