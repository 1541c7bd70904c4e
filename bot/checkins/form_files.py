"""Reading check-in form files: XLSForm workbooks (`.xlsx`, read with pyxform's
`parse_file_to_json`) or the same structure written in YAML, turned into one `Form`.

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
import tempfile
from pathlib import Path
from typing import Any

import yaml

from bot.checkins.expressions import ExpressionError, parse, references
from bot.checkins.forms import CHOICE, TYPES, Form, FormError, Option, Question

# pyxform spells the select types in words once parsed.
PYXFORM_TYPES = {"select one": "select_one", "select all that apply": "select_multiple"}
LANGUAGE_NAMES = {"english": "en", "french": "fr", "français": "fr", "dutch": "nl",
                  "nederlands": "nl", "german": "de", "deutsch": "de", "ukrainian": "uk",
                  "українська": "uk"}
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,59}$")
TRUE_WORDS = {"yes", "true", "1", "true()", "y"}
FORM_SUFFIXES = {".xlsx", ".yaml", ".yml"}


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


def _options(row: dict[str, Any], list_name: str,
             choice_lists: dict[str, list[dict[str, Any]]], default: str,
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
    if path.suffix.lower() in FORM_SUFFIXES:
        return load_yaml(path.read_text(encoding="utf-8"))
    raise FormError(f"{path.name}: forms are .xlsx (XLSForm) or .yaml files")


def form_files(folder: Path | None) -> list[Path]:
    if folder is None or not Path(folder).is_dir():
        return []
    return sorted(p for p in Path(folder).iterdir()
                  if p.suffix.lower() in FORM_SUFFIXES and not p.name.startswith("~"))


def load_upload(content: bytes, suffix: str) -> Form:
    """A form sent as an attachment; pyxform reads workbooks from a file only."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"form{suffix}"
        path.write_bytes(content)
        return load_form(path)
