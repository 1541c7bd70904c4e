"""Form rules in words: a refused answer says the real bound ("between 0 and 340 (your answer
to question 3)"), and /forms describes when a question is asked ("only if the answer to
question 4 is not “Green: under control”") and what kind of answer it takes. No XPath, `${…}`
or type code ever reaches a person."""
from __future__ import annotations

import math
import re
from typing import Any
from collections.abc import Callable

from typing import TYPE_CHECKING

from bot.checkins.expressions import evaluate, references
from bot.i18n import N_, _, current_locale, ngettext

if TYPE_CHECKING:
    from bot.checkins.forms import Form

FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
TYPE_LABELS = {"integer": N_("whole number"), "decimal": N_("number"),
               "select_one": N_("one choice"), "select_multiple": N_("several choices"),
               "text": N_("text"), "date": N_("date"), "note": N_("note")}
COMPARISONS = {">=": N_("at least {value}"), ">": N_("more than {value}"),
               "<=": N_("at most {value}"), "<": N_("less than {value}")}
Numbering = Callable[[str], "int | None"]


def type_label(type_code: str) -> str:
    return _(TYPE_LABELS.get(type_code, TYPE_LABELS["text"]))


# ---- bounds of a constraint ----------------------------------------------------------------

def _uses_self(tree: Any) -> bool:
    if not isinstance(tree, tuple):
        return False
    if tree == ("self",):
        return True
    return any(_uses_self(part) if isinstance(part, tuple) else
               any(_uses_self(p) for p in part) if isinstance(part, list) else False
               for part in tree[1:])


def comparisons(tree: Any) -> list[tuple[str, Any]] | None:
    """A constraint made only of `. op X` joined by `and`, as [(op, X)] with `.` on the left;
    None for any other rule (then the form's own message is all there is to say)."""
    if tree[0] == "op" and tree[1] == "and":
        left, right = comparisons(tree[2]), comparisons(tree[3])
        return left + right if left is not None and right is not None else None
    if tree[0] == "op" and tree[1] in FLIP:
        left, right = tree[2], tree[3]
        if left == ("self",) and not _uses_self(right):
            return [(tree[1], right)]
        if right == ("self",) and not _uses_self(left):
            return [(FLIP[tree[1]], left)]
    return None


def _shown(value: Any) -> str | None:
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\d", value):
        return f"{value[8:10]}/{value[5:7]}/{value[:4]}"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if math.isnan(number):
        return None
    if number.is_integer():
        return f"{int(number):,}".replace(",", "\u202f")
    text = f"{number:,.6f}".rstrip("0").replace(",", "\u202f")
    return text.replace(".", ",") if current_locale() in {"fr", "nl", "de", "uk"} else text


def _bound(tree: Any, answers: dict[str, Any], number_of: Numbering) -> str | None:
    shown = _shown(evaluate(tree, answers))
    if shown is None:
        return None
    refs = sorted(references(tree))
    if not refs:
        return shown
    numbers = [n for n in (number_of(name) for name in refs) if n]
    if tree[0] == "ref" and numbers:
        return _("{value} (your answer to question {number})").format(
            value=shown, number=numbers[0])
    return _("{value} (from your earlier answers)").format(value=shown)


def explain_bounds(constraint: Any, answers: dict[str, Any], number_of: Numbering) -> str | None:
    """"The answer must be between 0 and 340 (your answer to question 3)." or None."""
    rules = comparisons(constraint) if constraint is not None else None
    if not rules:
        return None
    parts: dict[str, tuple[str, str]] = {}
    for op, tree in rules:
        shown = _bound(tree, answers, number_of)
        if shown is None:
            return None
        side = "low" if op in (">", ">=") else "high"
        parts[side] = (op, shown)
    if {"low", "high"} <= set(parts) and parts["low"][0] == ">=" and parts["high"][0] == "<=":
        condition = _("between {low} and {high}").format(low=parts["low"][1],
                                                          high=parts["high"][1])
    else:
        pieces = [_(COMPARISONS[op]).format(value=shown) for op, shown in parts.values()]
        condition = pieces[0] if len(pieces) == 1 else _("{first} and {second}").format(
            first=pieces[0], second=pieces[1])
    return _("The answer must be {condition}.").format(condition=condition)


# ---- when a question is asked --------------------------------------------------------------

def describe_condition(tree: Any, form: Form, number_of: Numbering) -> str:
    """A `relevant` rule in words; rules too intricate to say are summed up by the questions
    they depend on."""
    said = _describe(tree, form, number_of)
    if said is not None:
        return _("only if {rule}").format(rule=said)
    numbers = sorted({n for n in (number_of(name) for name in references(tree)) if n})
    listed = ", ".join(str(n) for n in numbers)
    return ngettext("depending on the answer to question {numbers}",
                    "depending on the answers to questions {numbers}", len(numbers)).format(
                        numbers=listed)


def _describe(tree: Any, form: Form, number_of: Numbering) -> str | None:
    kind = tree[0]
    if kind == "op" and tree[1] in ("and", "or"):
        left, right = _describe(tree[2], form, number_of), _describe(tree[3], form, number_of)
        if left is None or right is None:
            return None
        joined = _("{first} and {second}") if tree[1] == "and" else _("{first} or {second}")
        return joined.format(first=left, second=right)
    if kind == "call" and tree[1] == "selected" and len(tree[2]) == 2:
        return _about(tree[2][0], tree[2][1], N_("the answer to question {number} includes "
                                                 "{value}"), form, number_of)
    if kind == "call" and tree[1] == "not" and tree[2] and tree[2][0][0] == "call" \
            and tree[2][0][1] == "selected" and len(tree[2][0][2]) == 2:
        ref, value = tree[2][0][2]
        return _about(ref, value, N_("the answer to question {number} does not include "
                                     "{value}"), form, number_of)
    if kind == "op" and tree[1] in ("=", "!=", *FLIP):
        ref, value, op = tree[2], tree[3], tree[1]
        if ref[0] != "ref":
            ref, value, op = tree[3], tree[2], FLIP.get(op, op)
        if op == "=":
            template = N_("the answer to question {number} is {value}")
        elif op == "!=":
            template = N_("the answer to question {number} is not {value}")
        else:
            template = _("the answer to question {number} is {comparison}").replace(
                "{comparison}", _(COMPARISONS[op]))
        return _about(ref, value, template, form, number_of)
    return None


def _about(ref: Any, value: Any, template: str, form: Form, number_of: Numbering) -> str | None:
    if ref[0] != "ref" or value[0] != "const" or not number_of(ref[1]):
        return None
    question = form.question(ref[1])
    option = question.option(str(value[1])) if question is not None else None
    # Translators: quotation marks around an answer, as your language writes them.
    quoted = _("\"{text}\"")
    if option is not None:
        shown = quoted.format(text=option.label(current_locale(), form.default_language))
    else:
        shown = _shown(value[1]) or quoted.format(text=value[1])
    return _(template).format(number=number_of(ref[1]), value=shown)
