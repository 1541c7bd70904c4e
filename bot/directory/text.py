"""Text folding shared by the gazetteer, the vocabulary and the index: accent- and
case-insensitive tokens in any script (Latin and Cyrillic)."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPECIAL = str.maketrans({"ß": "ss", "œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d",
                          "’": "'", "‘": "'", "ʼ": "'"})
_TOKEN = re.compile(r"[^\W_]+")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# Accented Latin and Cyrillic letters → their base letters, computed once: folding long texts
# (service descriptions at index build) is then one `translate` instead of a per-character loop.
_ACCENTS = {code: _strip_accents(chr(code)) for code in (*range(0xC0, 0x250), *range(0x400, 0x500))
            if _strip_accents(chr(code)) != chr(code)}


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lower-case, without accents: "Lüttich" → "luttich", "ÖSHZ" → "oshz"."""
    text = text.casefold()
    if text.isascii():
        return text
    text = text.translate(_SPECIAL).translate(_ACCENTS)
    if any(unicodedata.combining(c) for c in text):  # rare: combining marks typed as such
        text = _strip_accents(text)
    return text


def tokens(text: str) -> list[str]:
    """Words of `text`, folded; hyphens, apostrophes and punctuation separate words."""
    return _TOKEN.findall(fold(text))


def phrase(text: str) -> str:
    """The folded token sequence as one string, the key of every phrase dictionary."""
    return " ".join(tokens(text))


def umlaut_variant(text: str) -> str | None:
    """German writers without umlauts type "Loewen" for "Löwen"."""
    if not any(c in text for c in "äöüÄÖÜ"):
        return None
    table = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})
    return text.translate(table)


def is_cyrillic(text: str) -> bool:
    return bool(_CYRILLIC.search(text))


def deletes(word: str) -> set[str]:
    """The word with one character removed (symmetric-delete spelling correction)."""
    return {word[:i] + word[i + 1:] for i in range(len(word))}
