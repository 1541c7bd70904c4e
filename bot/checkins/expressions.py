"""A small, safe evaluator for the XLSForm expressions check-in forms use: `constraint`
(`. >= 0 and . <= 10000`) and `relevant` (`${status} != 'green'`, `selected(${needs}, 'housing')`).

No `eval()`: expressions are tokenised and parsed by a recursive-descent parser into nested
tuples once (at form load, so a bad expression fails there), then evaluated against the answers.
Supported: numbers, 'strings', `.`, `${name}`, `+ - * div mod`, `= != < <= > >=`, `and`, `or`,
parentheses and the functions `not`, `selected`, `count-selected`, `string-length`, `number`,
`today`. Missing answers behave as in XPath: empty string, and numeric comparisons with an
empty value are false."""
from __future__ import annotations

import math
import re
from datetime import date
from typing import Any
from collections.abc import Callable

MAX_LENGTH = 500


class ExpressionError(ValueError):
    """An expression the evaluator cannot read; the message says where."""


_TOKEN = re.compile(r"""
    \s*(?:
      (?P<number>\d+(?:\.\d+)?)
    | (?P<string>'[^']*'|"[^"]*")
    | (?P<ref>\$\{[A-Za-z_][A-Za-z0-9_.-]*\})
    | (?P<op><=|>=|!=|=|<|>|\+|-|\*|\(|\)|,)
    | (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
    | (?P<dot>\.)
    )""", re.X)

FUNCTIONS = {"not", "selected", "count-selected", "string-length", "number", "today"}
WORD_OPERATORS = {"and", "or", "div", "mod"}


def tokenize(text: str) -> list[tuple[str, str]]:
    if len(text) > MAX_LENGTH:
        raise ExpressionError("expression too long")
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos or match.lastgroup is None:
            raise ExpressionError(f"cannot read {text[pos:pos + 15]!r}")
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "name" and value in WORD_OPERATORS:
            kind = "op"
        tokens.append((kind, value))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]):
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise ExpressionError(f"expected {value or 'a value'}")
        self.pos += 1
        return token

    def binary(self, operators: set[str], operand: Callable[[], Any]) -> Any:
        node = operand()
        while (token := self.peek()) and token[0] == "op" and token[1] in operators:
            self.pos += 1
            node = ("op", token[1], node, operand())
        return node

    def parse(self) -> Any:
        node = self.or_()
        left_over = self.peek()
        if left_over is not None:
            raise ExpressionError(f"unexpected {left_over[1]!r}")
        return node

    def or_(self) -> Any:
        return self.binary({"or"}, self.and_)

    def and_(self) -> Any:
        return self.binary({"and"}, self.comparison)

    def comparison(self) -> Any:
        return self.binary({"=", "!=", "<", "<=", ">", ">="}, self.additive)

    def additive(self) -> Any:
        return self.binary({"+", "-"}, self.multiplicative)

    def multiplicative(self) -> Any:
        return self.binary({"*", "div", "mod"}, self.unary)

    def unary(self) -> Any:
        token = self.peek()
        if token == ("op", "-"):
            self.pos += 1
            return ("neg", self.unary())
        return self.primary()

    def primary(self) -> Any:
        kind, value = self.take()
        if kind == "number":
            return ("const", float(value))
        if kind == "string":
            return ("const", value[1:-1])
        if kind == "ref":
            return ("ref", value[2:-1])
        if kind == "dot":
            return ("self",)
        if kind == "op" and value == "(":
            node = self.or_()
            self.take(")")
            return node
        if kind == "name" and value in FUNCTIONS:
            self.take("(")
            args = []
            if self.peek() != ("op", ")"):
                args.append(self.or_())
                while self.peek() == ("op", ","):
                    self.pos += 1
                    args.append(self.or_())
            self.take(")")
            return ("call", value, args)
        if kind == "name" and value in {"true", "false"}:
            self.take("(")
            self.take(")")
            return ("const", value == "true")
        raise ExpressionError(f"unexpected {value!r}")


def parse(text: str) -> Any:
    """Parses an expression into a tree; raises ExpressionError when it cannot."""
    tokens = tokenize(text)
    if not tokens:
        raise ExpressionError("empty expression")
    return _Parser(tokens).parse()


def references(tree: Any) -> set[str]:
    """The `${name}`s an expression reads, to check them against the form at load time."""
    if not isinstance(tree, tuple):
        return set()
    if tree[0] == "ref":
        return {tree[1]}
    found: set[str] = set()
    for part in tree[1:]:
        if isinstance(part, list):
            for item in part:
                found |= references(item)
        else:
            found |= references(part)
    return found


def _number(value: Any) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, list):
        return float("nan")
    try:
        return float(str(value).strip()) if value not in (None, "") else float("nan")
    except ValueError:
        return float("nan")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0 and not math.isnan(value)
    if isinstance(value, list):
        return bool(value)
    return bool(value)


def _compare(op: str, left: Any, right: Any) -> bool:
    if op in {"=", "!="}:
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool)
                      for v in (left, right))
        if not numeric and any(isinstance(v, (int, float)) and not isinstance(v, bool)
                               for v in (left, right)):
            a, b = _number(left), _number(right)
            equal = a == b if not (math.isnan(a) or math.isnan(b)) else _text(left) == _text(right)
        elif numeric:
            equal = float(left) == float(right)
        else:
            equal = _text(left) == _text(right)
        return equal if op == "=" else not equal
    a, b = _number(left), _number(right)
    if math.isnan(a) or math.isnan(b):
        # Dates compare as ISO strings; anything else missing is simply false.
        sa, sb = _text(left), _text(right)
        iso_date = re.compile(r"\d{4}-\d\d-\d\d")
        if iso_date.fullmatch(sa) and iso_date.fullmatch(sb):
            a, b = sa, sb  # type: ignore[assignment]
        else:
            return False
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def evaluate(tree: Any, answers: dict[str, Any], current: Any = None) -> Any:
    kind = tree[0]
    if kind == "const":
        return tree[1]
    if kind == "ref":
        return answers.get(tree[1])
    if kind == "self":
        return current
    if kind == "neg":
        return -_number(evaluate(tree[1], answers, current))
    if kind == "call":
        return _call(tree[1], [evaluate(arg, answers, current) for arg in tree[2]])
    op, left_tree, right_tree = tree[1], tree[2], tree[3]
    left = evaluate(left_tree, answers, current)
    if op == "and":
        return _truthy(left) and _truthy(evaluate(right_tree, answers, current))
    if op == "or":
        return _truthy(left) or _truthy(evaluate(right_tree, answers, current))
    right = evaluate(right_tree, answers, current)
    if op in {"=", "!=", "<", "<=", ">", ">="}:
        return _compare(op, left, right)
    a, b = _number(left), _number(right)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0:
        return float("nan")
    return a / b if op == "div" else math.fmod(a, b)


def _call(name: str, args: list[Any]) -> Any:
    if name == "not":
        return not _truthy(args[0]) if args else True
    if name == "selected":
        values = args[0] if isinstance(args[0], list) else _text(args[0]).split()
        return len(args) > 1 and _text(args[1]) in [_text(v) for v in values]
    if name == "count-selected":
        value = args[0] if args else None
        return float(len(value) if isinstance(value, list) else len(_text(value).split()))
    if name == "string-length":
        return float(len(_text(args[0]) if args else ""))
    if name == "number":
        return _number(args[0] if args else None)
    return date.today().isoformat()  # today()


def holds(tree: Any, answers: dict[str, Any], current: Any = None) -> bool:
    return _truthy(evaluate(tree, answers, current))
