"""The light markup replies use: `**bold**`, `_italic_` and `` `code` ``. Transports render it
natively: HTML for Telegram and Matrix, plain text for the console and Matrix's `body`."""
from __future__ import annotations

import html
import re

_TOKENS = re.compile(r"\*\*(.+?)\*\*|(?<![\w])_(.+?)_(?![\w])|`([^`]+)`", re.S)


def to_html(text: str) -> str:
    out: list[str] = []
    pos = 0
    for match in _TOKENS.finditer(text):
        out.append(html.escape(text[pos:match.start()], quote=False))
        bold, italic, code = match.groups()
        if bold is not None:
            out.append(f"<b>{html.escape(bold, quote=False)}</b>")
        elif italic is not None:
            out.append(f"<i>{html.escape(italic, quote=False)}</i>")
        else:
            out.append(f"<code>{html.escape(code, quote=False)}</code>")
        pos = match.end()
    out.append(html.escape(text[pos:], quote=False))
    return "".join(out)


def to_plain(text: str) -> str:
    return _TOKENS.sub(lambda m: next(g for g in m.groups() if g is not None), text)


def bold(text: str) -> str:
    """Marks `text` bold, neutralising markup characters it may contain (user data)."""
    return f"**{escape(text)}**"


def escape(text: str) -> str:
    return text.replace("**", "* *").replace("`", "'")
