"""What a page accepts from its URL, validated against a fixed spec; anything else is a notice.

A bad value never reaches SQL and never produces an error page: it is dropped, and the page
says which value was ignored and what it accepts instead.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

MAX_PAGE = 10_000_000
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

Value = str | int


@dataclass(frozen=True)
class Choice:
    """A value from a fixed list (e.g. a break kind)."""

    name: str
    options: tuple[str, ...]
    label: str = ""


@dataclass(frozen=True)
class Text:
    """Free text (a search): control characters removed, trimmed, at most ``max_length``."""

    name: str
    max_length: int = 100
    label: str = ""


@dataclass(frozen=True)
class Number:
    """A positive whole number (a page number, a page size from ``options``)."""

    name: str
    default: int
    maximum: int = MAX_PAGE
    options: tuple[int, ...] = ()


@dataclass(frozen=True)
class Month:
    """A calendar month written ``YYYY-MM``."""

    name: str
    label: str = ""


Field = Choice | Text | Number | Month


def clean_text(raw: str, max_length: int = 100) -> str:
    """Text without control or format characters, spaces collapsed, at most ``max_length``.

    >>> clean_text("  ann\\x00  smith\\u202e ")
    'ann smith'
    """
    kept = "".join(ch for ch in raw if unicodedata.category(ch)[0] != "C")
    return " ".join(kept.split())[:max_length]


def _label(field: Field) -> str:
    return getattr(field, "label", "") or field.name


def parse(raw: Mapping[str, str], fields: Sequence[Field]) -> tuple[dict[str, Value], list[str]]:
    """Validated values of ``fields`` from a query string, and a notice per ignored value.

    >>> parse({"kind": "x", "page": "2"}, [Choice("kind", ("a", "b")), Number("page", 1)])
    ({'page': 2}, ["Ignored kind 'x': choose one of a, b."])
    >>> parse({"page": "-1 or 1=1"}, [Number("page", 1)])[1]
    ["Ignored page '-1 or 1=1': expected a whole number from 1 to 10,000,000."]
    """
    values: dict[str, Value] = {}
    notices: list[str] = []
    for field in fields:
        text = raw.get(field.name)
        if text is None or text.strip() == "":
            if isinstance(field, Number):
                values[field.name] = field.default
            continue
        shown = clean_text(text, 60)
        if isinstance(field, Choice):
            if text in field.options:
                values[field.name] = text
            else:
                notices.append(f"Ignored {_label(field)} '{shown}': choose one of "
                               f"{', '.join(field.options)}.")
        elif isinstance(field, Text):
            cleaned = clean_text(text, field.max_length)
            if len(" ".join(text.split())) > field.max_length:
                notices.append(f"The {_label(field)} was cut to {field.max_length} characters.")
            if cleaned:
                values[field.name] = cleaned
        elif isinstance(field, Number):
            allowed = (f"one of {', '.join(str(o) for o in field.options)}" if field.options
                       else f"a whole number from 1 to {field.maximum:,}")
            number = int(text) if text.isdigit() and len(text) <= 9 else 0
            if (number < 1 or number > field.maximum
                    or (field.options and number not in field.options)):
                notices.append(f"Ignored {_label(field)} '{shown}': expected {allowed}.")
                values[field.name] = field.default
            else:
                values[field.name] = number
        elif MONTH.match(text):
            values[field.name] = text
        else:
            notices.append(f"Ignored {_label(field)} '{shown}': expected a month as YYYY-MM.")
    unknown = sorted(set(raw) - {field.name for field in fields} - {"token"})
    if unknown:
        shown_names = ", ".join(clean_text(u, 30) for u in unknown)
        notices.append(f"Ignored unknown parameter(s): {shown_names}.")
    return values, notices
