"""Finds English sentences in a reply meant for a French, Dutch, German or Ukrainian reader, by
comparing it with the English catalogue: every message id is cut at its placeholders and
markup into fragments, and a fragment of two words or more that the reader's own catalogue
never uses is a sign that the reply was (partly) left in English."""
from __future__ import annotations

import re
from functools import cache

from bot.i18n import DOMAINS
from tools import i18n as i18n_tool

_CUT = re.compile(r"\{[^}]*\}|[`*_\"“”«»()\[\]:;•\n]|\s[-–]\s|%\w")
_WORD = re.compile(r"[^\W\d_][^\W\d_'’]*")


def _fragments(msgid: str) -> list[str]:
    found = []
    for part in _CUT.split(msgid):
        words = _WORD.findall(part)
        if len(words) >= 2:
            found.append(" ".join(words).lower())
    return found


@cache
def english_fragments(locale: str) -> tuple[str, ...]:
    english: set[str] = set()
    native: list[str] = []
    for domain in DOMAINS:
        for message in i18n_tool.extract(domain):
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            for msgid in ids:
                if msgid:
                    english.update(_fragments(msgid))
        catalog = i18n_tool.read(i18n_tool.po_path(locale, domain), locale, domain)
        for message in catalog:
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            native.extend(s for s in strings if s)
    own = " ".join(" ".join(_WORD.findall(s)).lower() for s in native)
    return tuple(sorted(f for f in english if f not in own))


def english_in(text: str, locale: str) -> list[str]:
    """The English fragments found in `text`, for a reader of `locale`."""
    words = " " + " ".join(_WORD.findall(text)).lower() + " "
    return [f for f in english_fragments(locale) if f" {f} " in words]
