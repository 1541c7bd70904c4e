"""Check-in forms as the rest of the feature uses them: `Form`, its `Question`s and their
`Option`s, reading an answer to a question, and moving through a form (the next relevant
question, the previous one, the answers a submission keeps). Reading form files (XLSForm,
YAML) is in bot/checkins/form_files.py."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.checkins import answers as reading
from bot.checkins.expressions import holds, parse, references
from bot.checkins.explain import explain_bounds
from bot.i18n import LOCALES, _

TYPES = ("integer", "decimal", "select_one", "select_multiple", "text", "date", "note")
NUMERIC = ("integer", "decimal")
CHOICE = ("select_one", "select_multiple")
MAX_TEXT_ANSWER = 1000


class FormError(ValueError):
    """A form file that cannot be used; the message names the row or column."""


def pick(labels: dict[str, str], locale: str, default: str = "en") -> str:
    """The label in `locale`, else the form's default language, else English, else any."""
    for code in (locale, default, "en"):
        if labels.get(code):
            return labels[code]
    return next(iter(labels.values()), "")


@dataclass
class Option:
    name: str
    labels: dict[str, str]

    def label(self, locale: str, default: str = "en") -> str:
        return pick(self.labels, locale, default) or self.name


@dataclass
class Question:
    name: str
    type: str
    labels: dict[str, str]
    hints: dict[str, str] = field(default_factory=dict)
    required: bool = False
    constraint: str | None = None
    constraint_messages: dict[str, str] = field(default_factory=dict)
    relevant: str | None = None
    options: list[Option] = field(default_factory=list)
    hxl: str | None = None
    personal: bool = False
    region: bool = False

    def __post_init__(self) -> None:
        self._constraint = parse(self.constraint) if self.constraint else None
        self._relevant = parse(self.relevant) if self.relevant else None

    @property
    def is_numeric(self) -> bool:
        return self.type in NUMERIC

    @property
    def is_choice(self) -> bool:
        return self.type in CHOICE

    @property
    def answerable(self) -> bool:
        return self.type != "note"

    def label(self, locale: str, default: str = "en") -> str:
        return pick(self.labels, locale, default) or self.name

    def hint(self, locale: str, default: str = "en") -> str:
        return pick(self.hints, locale, default)

    def option(self, name: str) -> Option | None:
        return next((o for o in self.options if o.name == name), None)

    @property
    def relevance(self) -> Any:
        """The parsed `relevant` rule (None: always asked)."""
        return self._relevant

    def is_relevant(self, answers: dict[str, Any]) -> bool:
        return self._relevant is None or holds(self._relevant, answers)

    def parse_answer(self, text: str, answers: dict[str, Any], locale: str,
                     default: str = "en", *, today: date | None = None,
                     number_of: Callable[[str], int | None] | None = None
                     ) -> tuple[Any, str | None]:
        """(value, None) for a valid answer, (None, explanation) otherwise; the explanation is
        translated into the active locale. `number_of` gives the number a person sees for an
        earlier question, so that a bound taken from it can be named."""
        text = text.strip()
        reader = getattr(self, f"_read_{self.type}")
        value, problem = reader(text, locale, default, today)
        if problem:
            return None, problem
        if self._constraint is not None and not holds(self._constraint, answers, value):
            return None, self._refusal(answers, locale, default, number_of or (lambda _n: None))
        return value, None

    def _refusal(self, answers: dict[str, Any], locale: str, default: str,
                 number_of: Callable[[str], int | None]) -> str:
        """The form's own message, unless the bound comes from another answer: then the real
        bound, which the form's author could not write down."""
        message = pick(self.constraint_messages, locale, default)
        precise = explain_bounds(self._constraint, answers, number_of)
        if precise and (references(self._constraint) or not message):
            return precise
        return message or _("This answer is not accepted here. Please check it and send it "
                            "again.")

    def _read_integer(self, text: str, *_args: Any) -> tuple[Any, str | None]:
        value = reading.read_integer(text)
        if value is None:
            return None, _("Please answer with a whole number, for example 12.")
        return value, None

    def _read_decimal(self, text: str, *_args: Any) -> tuple[Any, str | None]:
        value = reading.read_decimal(text)
        if value is None:
            return None, _("Please answer with a number, for example 12 or 3.5.")
        return value, None

    def _option_labels(self) -> list[tuple[str, list[str]]]:
        return [(o.name, list(o.labels.values())) for o in self.options]

    def _match_option(self, text: str, locale: str, default: str) -> Option | str | None:
        """The option meant, a translated "which one?" when several fit, or None."""
        word = text.strip()
        numbered = re.fullmatch(r"(\d{1,3})\s*[.)]?", word)  # "2", "2.", "2)"
        if numbered:
            number = int(numbered.group(1))
            return self.options[number - 1] if 1 <= number <= len(self.options) else None
        names = reading.match_labels(word, self._option_labels())
        if len(names) == 1:
            return self.option(names[0])
        if len(names) > 1:
            numbered_options = {o.name: (n, o) for n, o in enumerate(self.options, 1)}
            listed = "; ".join(f"{numbered_options[n][0]}. "
                               f"{numbered_options[n][1].label(locale, default)}" for n in names)
            return _("\"{answer}\" fits several options: {options}. Send the number of the one "
                     "you mean.").format(answer=word[:40], options=listed)
        return None

    def _read_select_one(self, text: str, locale: str, default: str,
                         _today: date | None = None) -> tuple[Any, str | None]:
        option = self._match_option(text, locale, default)
        if isinstance(option, str):
            return None, option
        if option is None:
            return None, _("Please choose one of the options: send its number or its name.")
        return option.name, None

    def _read_select_multiple(self, text: str, locale: str, default: str,
                              _today: date | None = None) -> tuple[Any, str | None]:
        whole = self._match_option(text, locale, default)
        parts = [text] if isinstance(whole, Option) else reading.split_choices(text)
        chosen: list[str] = []
        for part in parts:
            option = self._match_option(part, locale, default)
            if isinstance(option, str):
                return None, option
            if option is None:
                return None, _("I do not recognise {part!r}. Send the numbers of the options, "
                               "separated by commas, for example 1, 3.").format(
                                   part=part.strip()[:40])
            if option.name not in chosen:
                chosen.append(option.name)
        if not chosen:
            return None, _("Please choose at least one option.")
        order = [o.name for o in self.options]
        return sorted(chosen, key=order.index), None

    def _read_text(self, text: str, *_args: Any) -> tuple[Any, str | None]:
        if not text:
            return None, _("Please write an answer.")
        if len(text) > MAX_TEXT_ANSWER:
            return None, _("Please keep the answer under {limit} characters.").format(
                limit=MAX_TEXT_ANSWER)
        return text, None

    def _read_date(self, text: str, _locale: str | None = None, _default: str | None = None,
                   today: date | None = None) -> tuple[Any, str | None]:
        parsed = reading.read_date(text, today)
        if parsed is None:
            return None, _("Please answer with a date such as 31/03/2026, 31 March 2026 or "
                           "March 2026.")
        return parsed.isoformat(), None

    def _read_note(self, text: str, *_args: Any) -> tuple[Any, str | None]:
        return None, None

    def display(self, value: Any, locale: str, default: str = "en") -> str:
        """An answer as the person reads it back."""
        if value is None:
            return "—"
        if self.type == "select_one":
            return self.display_option(value, locale, default)
        if self.type == "select_multiple":
            names = [value] if isinstance(value, str) else list(value)
            return ", ".join(self.display_option(name, locale, default) for name in names)
        if self.is_numeric and isinstance(value, (int, float)):
            return number_for(value, locale)
        if self.type == "date" and re.fullmatch(r"\d{4}-\d\d-\d\d", str(value)):
            return f"{value[8:10]}/{value[5:7]}/{value[:4]}"
        return str(value)

    def display_option(self, name: str, locale: str, default: str = "en") -> str:
        option = self.option(name)
        return option.label(locale, default) if option else str(name)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "type": self.type, "label": self.labels}
        optional = {"hint": self.hints, "required": self.required, "constraint": self.constraint,
                    "constraint_message": self.constraint_messages, "relevant": self.relevant,
                    "hxl": self.hxl, "personal": self.personal, "region": self.region,
                    "choices": [{"name": o.name, "label": o.labels} for o in self.options]}
        data.update({k: v for k, v in optional.items() if v})
        return data


BABEL_LOCALES = {"fr": "fr_BE", "nl": "nl_BE", "de": "de_BE", "en": "en_GB", "uk": "uk_UA"}


def number_for(value: float, locale: str) -> str:
    """1250 → "1 250" (fr), "1.250" (nl, de); 12.5 → "12,5": as the reader writes numbers.
    English gets no grouping: in Belgium "1,250" would read as one and a quarter."""
    from babel.numbers import format_decimal

    return format_decimal(value, locale=BABEL_LOCALES.get(locale, "en_GB"),
                          group_separator=locale not in ("en", None))


@dataclass
class Form:
    code: str
    titles: dict[str, str]
    questions: list[Question]
    version: str = ""
    default_language: str = "en"

    def title(self, locale: str) -> str:
        return pick(self.titles, locale, self.default_language) or self.code

    def question(self, name: str) -> Question | None:
        return next((q for q in self.questions if q.name == name), None)

    def number_of(self, name: str) -> int | None:
        """The number a person sees for a question ("Question 3 of 7")."""
        answerable = [q.name for q in self.answerable]
        return answerable.index(name) + 1 if name in answerable else None

    def parse_answer(self, name: str, text: str, answers: dict[str, Any], locale: str,
                     today: date | None = None) -> tuple[Any, str | None]:
        question = self.question(name)
        if question is None:
            raise KeyError(name)
        return question.parse_answer(text, answers, locale, self.default_language,
                                     today=today, number_of=self.number_of)

    @property
    def answerable(self) -> list[Question]:
        return [q for q in self.questions if q.answerable]

    @property
    def region_question(self) -> Question | None:
        return next((q for q in self.questions if q.region), None)

    @property
    def languages(self) -> list[str]:
        found = {code for q in self.questions for code in q.labels}
        return [code for code in LOCALES if code in found]

    def to_dict(self) -> dict[str, Any]:
        return {"settings": {"form_id": self.code, "form_title": self.titles,
                             "version": self.version, "default_language": self.default_language},
                "survey": [q.to_dict() for q in self.questions]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Form:
        """Reads the YAML structure (also the stored definition)."""
        # Imported here: the file readers build Forms, so they import this module.
        from bot.checkins.form_files import form_from_rows

        return form_from_rows(data.get("settings") or {}, data.get("survey") or [],
                              data.get("choices") or {})

    # ----- moving through the form (what is asked next depends on earlier answers) -----

    def relevant_indexes(self, answers: dict[str, Any]) -> list[int]:
        """The positions of the questions asked, given the answers so far."""
        return [i for i, q in enumerate(self.questions) if q.answerable and q.is_relevant(answers)]

    def first_question(self, answers: dict[str, Any]) -> int:
        found = self.next_question(answers, -1)
        return found if found is not None else 0

    def next_question(self, answers: dict[str, Any], index: int) -> int | None:
        return next((i for i in self.relevant_indexes(answers) if i > index), None)

    def previous_question(self, answers: dict[str, Any], index: int) -> int | None:
        return next((i for i in reversed(self.relevant_indexes(answers)) if i < index), None)

    def next_missing(self, answers: dict[str, Any]) -> int | None:
        """The first question asked that has no answer yet."""
        return next((i for i in self.relevant_indexes(answers)
                     if self.questions[i].name not in answers), None)

    def relevant_answers(self, answers: dict[str, Any]) -> dict[str, Any]:
        """The answers a submission keeps: questions made irrelevant by a later change drop
        out."""
        kept: dict[str, Any] = {}
        for question in self.answerable:
            if question.name in answers and question.is_relevant(kept | answers):
                kept[question.name] = answers[question.name]
        return kept


