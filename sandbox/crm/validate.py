"""Check property values a client writes, the way HubSpot does, and normalise them to strings.

HubSpot answers invalid values with ``VALIDATION_ERROR`` and a message that embeds a JSON list of
per-property results (``{"isValid": false, "message", "error", "name"}``); :func:`describe`
builds that message.

>>> from sandbox.crm.objects import CONTACTS
>>> clean, problems = check_properties(CONTACTS.builtin(), {"email": "A@B.com", "zip": 12345})
>>> clean, problems
({'email': 'a@b.com', 'zip': '12345'}, [])
>>> _, problems = check_properties(CONTACTS.builtin(), {"email": "nope", "colour": "red"})
>>> [p["error"] for p in problems]
['INVALID_EMAIL', 'PROPERTY_DOESNT_EXIST']
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from sandbox.crm.objects import PropertyDef
from sandbox.crm.render import iso, number, parse_time

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
Problem = dict[str, Any]


def _problem(name: str, error: str, message: str) -> Problem:
    return {"isValid": False, "message": message, "error": error, "name": name}


def _as_text(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value if isinstance(value, str) else None


def check_value(prop: PropertyDef, raw: str) -> tuple[str | None, Problem | None]:
    """The stored form of one non-empty value of ``prop``, or the problem with it.

    >>> from sandbox.crm.objects import DEALS
    >>> check_value(DEALS.builtin()["closedate"], "2024-05-01")
    ('2024-05-01T00:00:00.000Z', None)
    >>> check_value(DEALS.builtin()["dealstage"], "won")[1]["error"]
    'INVALID_OPTION'
    """
    name = prop.name
    if name == "email":
        value = raw.strip().lower()
        if not EMAIL.match(value):
            return None, _problem(name, "INVALID_EMAIL", f"Email address {raw} is invalid")
        return value, None
    try:
        if prop.type == "number":
            return number(raw), None
        if prop.type in ("datetime", "date"):
            return iso(parse_time(raw)), None
    except (ValueError, ArithmeticError):
        kind = "INVALID_FLOAT" if prop.type == "number" else "INVALID_DATE"
        return None, _problem(name, kind, f"{raw} was not a valid {prop.type}.")
    if prop.type == "bool":
        if raw.lower() not in ("true", "false"):
            return None, _problem(name, "INVALID_BOOLEAN", f"{raw} is not a valid boolean value")
        return raw.lower(), None
    if prop.options and raw not in prop.options:
        return None, _problem(name, "INVALID_OPTION",
                              f"{raw} was not one of the allowed options: {list(prop.options)}")
    return raw, None


def check_properties(known: Mapping[str, PropertyDef], values: Mapping[str, Any],
                     owner_exists: Callable[[str], bool] = lambda _: True,
                     ) -> tuple[dict[str, str | None], list[Problem]]:
    """Normalised values (``None`` clears a property) and every problem found."""
    clean: dict[str, str | None] = {}
    problems: list[Problem] = []
    for name, value in values.items():
        prop = known.get(name)
        if prop is None:
            problems.append(_problem(name, "PROPERTY_DOESNT_EXIST",
                                     f'Property "{name}" does not exist'))
            continue
        if prop.read_only:
            problems.append(_problem(name, "READ_ONLY_VALUE",
                                     f'"{name}" is a read only property; its value cannot be set.'))
            continue
        text = _as_text(value)
        if value is None or text == "":
            clean[name] = None
            continue
        if text is None:
            problems.append(_problem(name, "INVALID_TYPE", f"{value!r} is not a valid value"))
            continue
        stored, problem = check_value(prop, text)
        if problem is None and name == "hubspot_owner_id" and not owner_exists(text):
            problem = _problem(name, "INVALID_OWNER_ID", f"{text} is not a valid owner id")
        if problem is not None:
            problems.append(problem)
        else:
            clean[name] = stored
    return clean, problems


def describe(problems: list[Problem]) -> str:
    """HubSpot's message for invalid property values.

    >>> describe([_problem("x", "E", "m")])
    'Property values were not valid: [{"isValid":false,"message":"m","error":"E","name":"x"}]'
    """
    return "Property values were not valid: " + json.dumps(problems, separators=(",", ":"))
