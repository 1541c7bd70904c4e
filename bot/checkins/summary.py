"""The figures of a round, as one JSON-serialisable dict (also what is kept after retention):
response rate, non-responders, and per question the totals (numbers), the counts (choices) and
the per-region breakdowns; text answers only for questions that do not hold personal data.
Questions marked personal are reported as overall aggregates only (no per-region split, no
text), since a region may have a single respondent."""
from __future__ import annotations

from typing import Any

from bot.checkins.forms import Form, Question
from bot.checkins.models import SUBMITTED

UNKNOWN_REGION = "?"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    return None


def _clean(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 4)


def summarise(form: Form, rows: list[tuple[Any, Any]], known_regions: dict[int, str],
              anonymous: frozenset[int] = frozenset()) -> dict:
    """`rows` are (assignment, user) pairs of one round. People in `anonymous` (being erased)
    and erased accounts (no name) count among the non-responders but are not named."""
    result: dict[str, Any] = {"assigned": len(rows), "submitted": 0, "late": 0,
                              "non_responders": [], "regions": {}, "questions": {}}
    answered: list[tuple[str, dict[str, Any]]] = []
    for assignment, user in rows:
        region = assignment.region or known_regions.get(user.id) or UNKNOWN_REGION
        counts = result["regions"].setdefault(region, {"assigned": 0, "submitted": 0})
        counts["assigned"] += 1
        if assignment.status == SUBMITTED:
            result["submitted"] += 1
            result["late"] += 1 if assignment.late else 0
            counts["submitted"] += 1
            answered.append((region, assignment.answers or {}))
        else:
            result["non_responder_count"] = result.get("non_responder_count", 0) + 1
            if user.display_name and user.id not in anonymous:
                result["non_responders"].append(user.display_name)
    result["non_responders"].sort(key=str.lower)
    result.setdefault("non_responder_count", 0)
    result["rate"] = round(result["submitted"] / result["assigned"], 4) if rows else 0.0
    for question in form.answerable:
        result["questions"][question.name] = _question_figures(question, answered)
    return result


def _question_figures(question: Question,
                      answered: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    values = [(region, answers.get(question.name)) for region, answers in answered
              if answers.get(question.name) not in (None, "", [])]
    figures: dict[str, Any] = {"answered": len(values)}
    split = not question.personal
    if question.is_numeric:
        figures.update(_numeric_figures(values, split))
    elif question.is_choice or question.type == "date":
        figures.update(_count_figures(question, values, split))
    elif question.type == "text" and split:
        figures["texts"] = [[region, str(value)] for region, value in values]
    return figures


def _numeric_figures(values: list[tuple[str, Any]], split: bool) -> dict[str, Any]:
    """Total, smallest, largest and mean, and the total per region unless personal."""
    numbers = [(region, number) for region, number in
               ((region, _number(value)) for region, value in values) if number is not None]
    plain = [number for _region, number in numbers]
    total = sum(plain)
    figures: dict[str, Any] = {
        "total": _clean(total), "min": _clean(min(plain, default=0)),
        "max": _clean(max(plain, default=0)),
        "mean": _clean(total / len(plain)) if plain else None}
    if split:
        by_region: dict[str, float] = {}
        for region, number in numbers:
            by_region[region] = by_region.get(region, 0) + number
        figures["by_region"] = {r: _clean(v) for r, v in sorted(by_region.items())}
    return figures


def _count_figures(question: Question, values: list[tuple[str, Any]],
                   split: bool) -> dict[str, Any]:
    """How often each choice (or date) was given, in the form's order of options, and per
    region unless personal."""
    counts: dict[str, int] = {}
    by_region_counts: dict[str, dict[str, int]] = {}
    for region, value in values:
        for item in (value if isinstance(value, list) else [value]):
            counts[str(item)] = counts.get(str(item), 0) + 1
            per = by_region_counts.setdefault(region, {})
            per[str(item)] = per.get(str(item), 0) + 1
    order = [o.name for o in question.options]
    figures: dict[str, Any] = {"counts": dict(sorted(counts.items(), key=lambda kv: (
        order.index(kv[0]) if kv[0] in order else len(order), kv[0])))}
    if split:
        figures["by_region"] = {r: by_region_counts[r] for r in sorted(by_region_counts)}
    return figures


def without_raw_answers(result: dict[str, Any]) -> dict[str, Any]:
    """What remains after the retention period: figures, no texts and no names."""
    reduced = {key: value for key, value in result.items() if key != "non_responders"}
    reduced["non_responders"] = []
    reduced["non_responder_count"] = result.get("non_responder_count",
                                                len(result.get("non_responders", [])))
    reduced["questions"] = {name: {k: v for k, v in figures.items() if k != "texts"}
                            for name, figures in result.get("questions", {}).items()}
    reduced["reduced"] = True
    return reduced
