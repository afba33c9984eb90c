"""The OData-style ``filter`` of BambooHR's Datasets API v2, parsed into a row predicate.

Supported: ``eq ne lt le gt ge``, ``in (...)``, ``and``, ``or``, ``not``, parentheses; literals are
single-quoted strings (``''`` escapes a quote), numbers, ``null``, ``true`` and ``false``.
Comparisons are numeric when both sides are numbers, else case-insensitive text (ISO dates
order correctly as text); a null value only equals ``null``.

>>> keep = compile_filter("status eq 'Active' and department in ('Sales','IT')")
>>> keep({"status": "Active", "department": "IT"}), keep({"status": "Inactive"})
(True, False)
>>> recent = compile_filter("hireDate ge '2024-01-01' or terminationDate ne null")
>>> recent({"hireDate": "2023-05-01"}), recent({"hireDate": "2024-05-01"})
(False, True)
>>> compile_filter("status eq")
Traceback (most recent call last):
...
ValueError: filter: expected a value after 'eq' at position 9
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Row = Mapping[str, Any]
Predicate = Callable[[Row], bool]

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)(?![\w.])|(?P<punct>[(),])"
    r"|(?P<word>[A-Za-z_][\w.]*))"
)
_COMPARE = {"eq", "ne", "lt", "le", "gt", "ge"}
_NULL = object()


def _tokens(text: str) -> list[tuple[str, Any, int]]:
    out: list[tuple[str, Any, int]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ValueError(f"filter: unexpected character {text[pos:].strip()[0]!r} at "
                             f"position {pos}")
        kind = m.lastgroup or ""
        raw = m.group(kind)
        if kind == "str":
            out.append(("value", raw[1:-1].replace("''", "'"), m.start(kind)))
        elif kind == "num":
            out.append(("value", float(raw), m.start(kind)))
        elif kind == "punct":
            out.append((raw, raw, m.start(kind)))
        else:
            low = raw.lower()
            if low in ("null", "true", "false"):
                out.append(("value", {"null": _NULL, "true": "true", "false": "false"}[low],
                            m.start(kind)))
            elif low in _COMPARE | {"and", "or", "not", "in"}:
                out.append((low, low, m.start(kind)))
            else:
                out.append(("name", raw, m.start(kind)))
        pos = m.end()
    return out


def _number(value: Any) -> float | None:
    if isinstance(value, float):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def compare(actual: Any, op: str, literal: Any) -> bool:
    """One comparison of a row value against a literal.

    >>> compare("10", "gt", 9.0), compare("b", "lt", "A"), compare(None, "eq", _NULL)
    (True, False, True)
    """
    if literal is _NULL or actual is None:
        same = literal is _NULL and actual is None
        return same if op == "eq" else (not same if op == "ne" else False)
    left, right = _number(actual), _number(literal)
    a: Any
    b: Any
    if left is not None and right is not None:
        a, b = left, right
    else:
        a = str(actual).lower()
        b = (str(int(literal)) if isinstance(literal, float) and literal.is_integer()
             else str(literal)).lower()
    return {
        "eq": a == b, "ne": a != b, "lt": a < b, "le": a <= b, "gt": a > b, "ge": a >= b,
    }[op]


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.i = 0

    def _peek(self) -> str | None:
        return self.tokens[self.i][0] if self.i < len(self.tokens) else None

    def _take(self, kind: str, what: str) -> Any:
        if self._peek() != kind:
            at = self.tokens[self.i][2] if self.i < len(self.tokens) else len(self.text)
            raise ValueError(f"filter: expected {what} at position {at}")
        value = self.tokens[self.i][1]
        self.i += 1
        return value

    def parse(self) -> Predicate:
        if not self.tokens:
            raise ValueError("filter: empty expression")
        pred = self._or()
        if self.i != len(self.tokens):
            raise ValueError(f"filter: unexpected {self.tokens[self.i][1]!r} at position "
                             f"{self.tokens[self.i][2]}")
        return pred

    def _or(self) -> Predicate:
        parts = [self._and()]
        while self._peek() == "or":
            self.i += 1
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else (lambda row: any(p(row) for p in parts))

    def _and(self) -> Predicate:
        parts = [self._unary()]
        while self._peek() == "and":
            self.i += 1
            parts.append(self._unary())
        return parts[0] if len(parts) == 1 else (lambda row: all(p(row) for p in parts))

    def _unary(self) -> Predicate:
        if self._peek() == "not":
            self.i += 1
            inner = self._unary()
            return lambda row: not inner(row)
        if self._peek() == "(":
            self.i += 1
            inner = self._or()
            self._take(")", "')'")
            return inner
        return self._comparison()

    def _comparison(self) -> Predicate:
        name = self._take("name", "a field name")
        op = self._peek()
        if op == "in":
            self.i += 1
            self._take("(", "'(' after 'in'")
            values = [self._take("value", "a value in the 'in' list")]
            while self._peek() == ",":
                self.i += 1
                values.append(self._take("value", "a value in the 'in' list"))
            self._take(")", "')' closing the 'in' list")
            return lambda row: any(compare(row.get(name), "eq", v) for v in values)
        if op not in _COMPARE:
            raise ValueError(f"filter: expected an operator after {name!r}")
        self.i += 1
        literal = self._take("value", f"a value after {op!r}")
        return lambda row: compare(row.get(name), op, literal)


def compile_filter(text: str) -> Predicate:
    """A predicate over rows (field name → value) for one filter expression; ValueError if bad."""
    return _Parser(text).parse()


def field_names(text: str) -> set[str]:
    """The field names a filter mentions (to check they exist).

    >>> sorted(field_names("a eq 'x' and (b gt 1 or c in ('y'))"))
    ['a', 'b', 'c']
    """
    return {value for kind, value, _pos in _tokens(text) if kind == "name"}
