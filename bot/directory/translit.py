"""Belgian place names written in Cyrillic by Ukrainian speakers ("Льєж", "Антверпен",
"Шарлеруа", "в Брюсселі").

Nobody types 565 municipalities one by one: a Cyrillic word is transliterated to Latin letters
(the table below), then both it and the gazetteer's Latin names are reduced to a rough *sound
key* — the spelling habits of French, Dutch and German on one side, of Ukrainian on the other,
mapped to the same letters ("Charleroi" and "Шарлеруа" → `sharlerua`; "Brugge" and "Брюгге" →
`bruh`). Keys are then compared with a small edit distance. Latin spellings that are read two
ways (French "ch" = ш, Dutch "ch" = х; French "ge" = ж; German "eu" = ей) give several keys."""
from __future__ import annotations

import re
from functools import lru_cache
from itertools import product

# Ukrainian letters → Latin, close to the national romanisation, with г → h (as Ukrainians
# render Dutch g and German h: "Гент", "Гассельт") and и → y.
_UK_TO_LATIN = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ie",
    "ж": "zh", "з": "z", "и": "y", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l",
    "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u",
    "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ь": "", "ю": "iu",
    "я": "ia", "ъ": "", "ы": "y", "э": "e", "ё": "io", "'": "", "’": "", "ʼ": "",
}
# Ukrainian case endings that attach to a place name ("у Брюсселі", "до Левена", "з Гентом").
UK_ENDINGS = ("ові", "ом", "і", "у", "а", "ю", "ї", "е", "ем")

# Sound key rules, applied in order to Latin text. Each rule is (pattern, replacements): a
# Latin spelling read two ways gives two replacements (both keys are kept).
_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"ie(?:rs|r|z)$", ("ie", "iers")),
    (r"tsch|sch", ("sh", "skh")),
    (r"ch", ("sh", "kh")),
    (r"g(?=[eiy])", ("zh", "h")),
    (r"gn", ("n",)),
    (r"ph", ("f",)),
    (r"th", ("t",)),
    (r"ck|q(?:u)?", ("k",)),
    (r"c(?=[eiy])", ("s",)),
    (r"c", ("k",)),
    (r"x", ("ks",)),
    (r"w", ("v",)),
    (r"eau|au", ("o",)),
    (r"oi", ("ua", "oi")),
    (r"ij|ey", ("ei",)),
    (r"eu", ("e", "ei")),
    (r"ou|oe", ("u",)),
    (r"ai", ("e", "ai")),
    (r"j", ("zh", "i")),
)
# After the rules: letters that sound alike on both sides become one.
_MERGE = ((re.compile(r"kh|gh|g|h"), "h"), (re.compile(r"zh|sh|ch"), "s"),
          (re.compile(r"ts|tz|z"), "z"), (re.compile(r"y"), "i"),
          (re.compile(r"i([aeou])"), r"\1"), (re.compile(r"ae"), "a"))
_DOUBLE = re.compile(r"(.)\1+")
_NOT_LETTER = re.compile(r"[^a-z]")
_COMPILED = tuple((re.compile(p), r) for p, r in _RULES)
MAX_VARIANTS = 8


def cyrillic_to_latin(text: str) -> str:
    return "".join(_UK_TO_LATIN.get(c, c) for c in text.casefold())


@lru_cache(maxsize=8192)
def sound_keys(latin: str) -> frozenset[str]:
    """The sound keys of a folded Latin name ("liege" → {"lis", "lih"})."""
    variants = {_NOT_LETTER.sub("", latin)}
    for pattern, replacements in _COMPILED:
        grown = set()
        for text in variants:
            parts = pattern.split(text)
            if len(parts) == 1:
                grown.add(text)
                continue
            for choice in product(replacements, repeat=len(parts) - 1):
                grown.add("".join(p + c for p, c in zip(parts, choice)) + parts[-1])
                if len(grown) >= MAX_VARIANTS * 4:
                    break
        variants = set(sorted(grown)[:MAX_VARIANTS * 4])
    return frozenset(_finish(v) for v in variants)


def cyrillic_key(word: str) -> str:
    """The sound key of a Cyrillic word or phrase (one key: Ukrainian spelling is phonetic)."""
    return _finish(_NOT_LETTER.sub("", cyrillic_to_latin(word)))


def _finish(text: str) -> str:
    text = _DOUBLE.sub(r"\1", text)
    for pattern, replacement in _MERGE:
        text = pattern.sub(replacement, text)
    text = _DOUBLE.sub(r"\1", text)
    # French silent endings (Mons/Монс, Dinant/Дінан, Bastogne/Бастонь), on both sides.
    for ending in ("s", "t", "e"):
        if len(text) > 3 and text.endswith(ending):
            text = text[:-1]
    return text
