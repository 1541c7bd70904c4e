"""Check-in forms: XLSForm workbooks (`.xlsx`, read with pyxform's `parse_file_to_json`) or the
same structure written in YAML, turned into one `Form` the rest of the feature uses.

Supported question types: integer, decimal, select_one, select_multiple, text, date, note.
Columns: `type`, `name`, `label::Language (ll)`, `hint::…`, `required`, `constraint`,
`constraint_message::…`, `relevant`, `instance::hxl` (HXL tag kept in exports) and two coordbot
bind attributes: `bind::coordbot:personal` (the question holds personal data: results and
exports show aggregates only) and `bind::coordbot:region` (the answer is the respondent's
region, used for per-region breakdowns). The `settings` sheet gives `form_id`, `form_title`,
`version` and `default_language`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable

import yaml

from bot.checkins import answers as reading
from bot.checkins.expressions import ExpressionError, holds, parse, references
from bot.checkins.explain import explain_bounds
from bot.i18n import LOCALES, _

TYPES = ("integer", "decimal", "select_one", "select_multiple", "text", "date", "note")
NUMERIC = ("integer", "decimal")
CHOICE = ("select_one", "select_multiple")
# pyxform spells the select types in words once parsed.
PYXFORM_TYPES = {"select one": "select_one", "select all that apply": "select_multiple"}
LANGUAGE_NAMES = {"english": "en", "french": "fr", "français": "fr", "dutch": "nl",
                  "nederlands": "nl", "german": "de", "deutsch": "de", "ukrainian": "uk",
                  "українська": "uk"}
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,59}$")
MAX_TEXT_ANSWER = 1000
TRUE_WORDS = {"yes", "true", "1", "true()", "y"}


class FormError(ValueError):
    """A form file that cannot be used; the message names the row or column."""


def language_code(column_language: str | None, default: str = "en") -> str:
    """`Français (fr)` → fr, `English` → en, `nl` → nl, `default`/None → the form's default."""
    if not column_language or column_language == "default":
        return default
    text = column_language.strip()
    match = re.search(r"\(([A-Za-z]{2})(?:[-_][A-Za-z]+)?\)\s*$", text)
    if match:
        return match.group(1).lower()
    lowered = text.lower()
    if lowered in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[lowered]
    return lowered[:2] if re.fullmatch(r"[a-z]{2}([-_].*)?", lowered) else default


def _labels(value: Any, default: str) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, dict):
        return {language_code(k, default): str(v).strip() for k, v in value.items()
                if v is not None and str(v).strip()}
    return {default: str(value).strip()}


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

    def _refusal(self, answers: dict[str, Any], locale: str, default: str, number_of) -> str:
        """The form's own message, unless the bound comes from another answer: then the real
        bound, which the form's author could not write down."""
        message = pick(self.constraint_messages, locale, default)
        precise = explain_bounds(self._constraint, answers, number_of)
        if precise and (references(self._constraint) or not message):
            return precise
        return message or _("This answer is not accepted here. Please check it and send it "
                            "again.")

    def _read_integer(self, text: str, *_args) -> tuple[Any, str | None]:
        value = reading.read_integer(text)
        if value is None:
            return None, _("Please answer with a whole number, for example 12.")
        return value, None

    def _read_decimal(self, text: str, *_args) -> tuple[Any, str | None]:
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
            listed = "; ".join(f"{self.options.index(self.option(n)) + 1}. "
                               f"{self.option(n).label(locale, default)}" for n in names)
            return _("\"{answer}\" fits several options: {options}. Send the number of the one "
                     "you mean.").format(answer=word[:40], options=listed)
        return None

    def _read_select_one(self, text: str, locale: str, default: str,
                         _today=None) -> tuple[Any, str | None]:
        option = self._match_option(text, locale, default)
        if isinstance(option, str):
            return None, option
        if option is None:
            return None, _("Please choose one of the options: send its number or its name.")
        return option.name, None

    def _read_select_multiple(self, text: str, locale: str, default: str,
                              _today=None) -> tuple[Any, str | None]:
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

    def _read_text(self, text: str, *_args) -> tuple[Any, str | None]:
        if not text:
            return None, _("Please write an answer.")
        if len(text) > MAX_TEXT_ANSWER:
            return None, _("Please keep the answer under {limit} characters.").format(
                limit=MAX_TEXT_ANSWER)
        return text, None

    def _read_date(self, text: str, _locale=None, _default=None,
                   today: date | None = None) -> tuple[Any, str | None]:
        parsed = reading.read_date(text, today)
        if parsed is None:
            return None, _("Please answer with a date such as 31/03/2026, 31 March 2026 or "
                           "March 2026.")
        return parsed.isoformat(), None

    def _read_note(self, text: str, *_args) -> tuple[Any, str | None]:
        return None, None

    def display(self, value: Any, locale: str, default: str = "en") -> str:
        """An answer as the person reads it back."""
        if value is None:
            return "—"
        if self.type == "select_one":
            option = self.option(value)
            return option.label(locale, default) if option else str(value)
        if self.type == "select_multiple":
            names = [value] if isinstance(value, str) else list(value)
            return ", ".join(self.option(v).label(locale, default) if self.option(v) else str(v)
                             for v in names)
        if self.is_numeric and isinstance(value, (int, float)):
            return number_for(value, locale)
        if self.type == "date" and re.fullmatch(r"\d{4}-\d\d-\d\d", str(value)):
            return f"{value[8:10]}/{value[5:7]}/{value[:4]}"
        return str(value)

    def to_dict(self) -> dict[str, Any]:
        data = {"name": self.name, "type": self.type, "label": self.labels}
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


def read_date(text: str) -> date | None:
    text = text.strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


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
        return self.question(name).parse_answer(text, answers, locale, self.default_language,
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
    def from_dict(cls, data: dict[str, Any]) -> "Form":
        """Reads the YAML structure (also the stored definition)."""
        return form_from_rows(data.get("settings") or {}, data.get("survey") or [],
                              data.get("choices") or {})


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in TRUE_WORDS


def _columns(row: dict[str, Any], prefix: str, default: str) -> dict[str, str]:
    """Collects `label`, `label::English (en)` and a `label: {en: …}` mapping into one dict."""
    found: dict[str, str] = {}
    for key, value in row.items():
        if key == prefix:
            found.update(_labels(value, default))
        elif key.startswith(prefix + "::"):
            found.update(_labels({key.split("::", 1)[1]: value}, default))
    return found


def form_from_rows(settings: dict[str, Any], rows: list[dict[str, Any]],
                   choice_lists: dict[str, list[dict[str, Any]]]) -> Form:
    default = language_code(str(settings.get("default_language") or "en"), "en")
    code = str(settings.get("form_id") or "").strip()
    if not NAME.match(code):
        raise FormError(f"settings: form_id {code!r} must be letters, digits, _ or -")
    questions: list[Question] = []
    for number, row in enumerate(rows, 2):
        questions.append(_question(row, number, default, choice_lists))
    names = [q.name for q in questions]
    if len(set(names)) != len(names):
        raise FormError("survey: two questions have the same name")
    if not any(q.answerable for q in questions):
        raise FormError("survey: the form has no question to answer")
    known = set(names)
    for question in questions:
        for expression in (question.relevant, question.constraint):
            unknown = references(parse(expression)) - known if expression else set()
            if unknown:
                raise FormError(f"survey: {question.name} refers to unknown "
                                f"${{{sorted(unknown)[0]}}}")
    titles = _labels(settings.get("form_title"), default) or {default: code}
    return Form(code=code, titles=titles, questions=questions,
                version=str(settings.get("version") or ""), default_language=default)


def _question(row: dict[str, Any], number: int, default: str,
              choice_lists: dict[str, list[dict[str, Any]]]) -> Question:
    raw_type = str(row.get("type") or "").strip()
    type_word, _sep, list_name = raw_type.partition(" ")
    type_word = PYXFORM_TYPES.get(raw_type, type_word)
    if raw_type in PYXFORM_TYPES:
        list_name = str(row.get("list_name") or row.get("itemset") or "")
    if type_word not in TYPES:
        raise FormError(f"survey row {number}: type {raw_type!r} is not supported "
                        f"({', '.join(TYPES)})")
    name = str(row.get("name") or "").strip()
    if not NAME.match(name):
        raise FormError(f"survey row {number}: name {name!r} must be letters, digits, _ or -")
    bind = row.get("bind") or {}
    instance = row.get("instance") or {}
    options = _options(row, list_name.strip(), choice_lists, default, number) \
        if type_word in CHOICE else []
    try:
        return Question(
            name=name, type=type_word, labels=_columns(row, "label", default),
            hints=_columns(row, "hint", default),
            required=_flag(row.get("required", bind.get("required"))),
            constraint=(row.get("constraint") or bind.get("constraint") or None),
            constraint_messages=_columns(row, "constraint_message", default)
            or _labels(bind.get("jr:constraintMsg"), default),
            relevant=(row.get("relevant") or bind.get("relevant") or None),
            options=options,
            hxl=(row.get("hxl") or row.get("instance::hxl") or instance.get("hxl") or None),
            personal=_flag(row.get("personal", bind.get("coordbot:personal"))),
            region=_flag(row.get("region", bind.get("coordbot:region"))))
    except ExpressionError as exc:
        raise FormError(f"survey row {number} ({name}): {exc}") from None


def _options(row: dict[str, Any], list_name: str, choice_lists, default: str,
             number: int) -> list[Option]:
    items = row.get("choices") if isinstance(row.get("choices"), list) else None
    if items is None:
        if list_name not in choice_lists:
            raise FormError(f"survey row {number}: choice list {list_name!r} not found")
        items = choice_lists[list_name]
    options = [Option(str(item["name"]).strip(), _columns(item, "label", default))
               for item in items if str(item.get("name") or "").strip()]
    if not options:
        raise FormError(f"survey row {number}: choice list {list_name!r} is empty")
    return options


def load_xlsform(path: Path) -> Form:
    """Parses an XLSForm workbook with pyxform (which validates the workbook first)."""
    from pyxform.errors import PyXFormError
    from pyxform.xls2json import parse_file_to_json

    try:
        parsed = parse_file_to_json(str(path), warnings=[])
    except PyXFormError as exc:
        raise FormError(f"{Path(path).name}: {exc}") from None
    rows = [child for child in parsed.get("children", [])
            if child.get("name") != "meta" and child.get("type") != "calculate"]
    settings = {"form_id": parsed.get("id_string"), "form_title": parsed.get("title"),
                "version": parsed.get("version"),
                "default_language": parsed.get("default_language") or "en"}
    if isinstance(settings["form_title"], str) and parsed.get("default_language"):
        settings["form_title"] = {parsed["default_language"]: settings["form_title"]}
    groups = [c for c in rows if c.get("type") in {"group", "repeat"}]
    if groups:
        raise FormError(f"{Path(path).name}: groups and repeats are not supported")
    return form_from_rows(settings, rows, parsed.get("choices") or {})


def load_yaml(text: str) -> Form:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise FormError(f"not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise FormError("a form is a mapping with settings, survey and choices")
    return Form.from_dict(data)


def load_form(path: Path) -> Form:
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        return load_xlsform(path)
    if path.suffix.lower() in {".yaml", ".yml"}:
        return load_yaml(path.read_text(encoding="utf-8"))
    raise FormError(f"{path.name}: forms are .xlsx (XLSForm) or .yaml files")


def form_files(folder: Path | None) -> list[Path]:
    if folder is None or not Path(folder).is_dir():
        return []
    return sorted(p for p in Path(folder).iterdir()
                  if p.suffix.lower() in {".xlsx", ".yaml", ".yml"} and not p.name.startswith("~"))
