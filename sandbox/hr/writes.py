"""Validating and applying ``POST /employees`` and ``POST /employees/{id}`` bodies (pure).

Wrong JSON or wrong value types → 400; well-typed but invalid values (dates, status, e-mail,
supervisor) → 409, the statuses BambooHR documents. Field names the emulator does not model are
kept as written (BambooHR accepts any valid field name) and read back by ``GET /employees/{id}``.

>>> changes = parse_object(b'{"jobTitle": "CTO", "hireDate": "2024-02-01"}')
>>> apply_changes({"firstName": "A", "lastName": "B"}, changes, Checks())["jobTitle"]
'CTO'
>>> apply_changes({}, {"hireDate": "01/02/2024"}, Checks())
Traceback (most recent call last):
...
sandbox.hr.replies.HrError: hireDate must be a date as YYYY-MM-DD, got '01/02/2024'.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.hr.fields import is_date
from sandbox.hr.replies import HrError

TEXT_FIELDS: frozenset[str] = frozenset({
    "firstName", "lastName", "preferredName", "middleName", "employeeNumber", "jobTitle",
    "department", "division", "location", "workEmail", "homeEmail", "workPhone",
    "workPhoneExtension", "mobilePhone", "homePhone",
})
REQUIRED_TEXT: frozenset[str] = frozenset({"firstName", "lastName"})
DATE_FIELDS: frozenset[str] = frozenset({"hireDate", "terminationDate"})
READ_ONLY: frozenset[str] = frozenset({
    "id", "employeeId", "displayName", "fullName1", "fullName2", "lastChanged", "supervisor",
    "supervisorId", "supervisorEmail", "reportsToName", "jobTitleName", "departmentName",
    "divisionName", "locationName", "photoUrl", "employmentHistoryStatus", "bestEmail",
})
STATUSES: tuple[str, ...] = ("Active", "Inactive")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def parse_object(raw: bytes) -> dict[str, Any]:
    """The JSON object of a request body (400 when it is not valid JSON or not an object)."""
    try:
        payload = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HrError(400, "BadRequest", f"The request body is not valid JSON: {exc}.") from exc
    if not isinstance(payload, dict):
        raise HrError(400, "BadRequest",
                      "The request body must be a JSON object of field names and values.")
    return payload


@dataclass
class Checks:
    """Lookups an update needs from the store (defaults accept everything)."""

    employee_exists: Callable[[str], bool] = lambda _id: True
    email_owner: Callable[[str], str | None] = lambda _email: None  # employee id using it
    self_id: str | None = None


def _conflict(message: str) -> HrError:
    return HrError(409, "Conflict", message)


def _text(name: str, value: Any) -> str | None:
    if value is None and name not in REQUIRED_TEXT:
        return None
    if not isinstance(value, str):
        raise HrError(400, "BadRequest", f"{name} must be a string, got {json.dumps(value)}.")
    if name in REQUIRED_TEXT and not value.strip():
        raise HrError(400, "BadRequest", f"{name} cannot be empty.")
    return value


def _date(name: str, value: Any) -> str | None:
    if value is None or value == "" or value == "0000-00-00":
        return None
    if not isinstance(value, str):
        raise HrError(400, "BadRequest", f"{name} must be a string, got {json.dumps(value)}.")
    if not is_date(value):
        raise _conflict(f"{name} must be a date as YYYY-MM-DD, got {value!r}.")
    return value


def _apply_one(body: dict[str, Any], name: str, value: Any, checks: Checks) -> None:
    if name.startswith("_") or name in READ_ONLY:
        raise HrError(400, "BadRequest", f"{name} is read-only and cannot be written.")
    if name in TEXT_FIELDS:
        text = _text(name, value)
        if name == "workEmail" and text:
            if not _EMAIL.match(text):
                raise _conflict(f"workEmail {text!r} is not an e-mail address.")
            owner = checks.email_owner(text.lower())
            if owner is not None and owner != checks.self_id:
                raise _conflict(f"workEmail {text!r} is already used by employee {owner}.")
        body[name] = text
    elif name in DATE_FIELDS:
        body[name] = _date(name, value)
    elif name == "status":
        if not isinstance(value, str):
            raise HrError(400, "BadRequest", f"status must be a string, got {json.dumps(value)}.")
        if value not in STATUSES:
            raise _conflict(f"status must be 'Active' or 'Inactive', got {value!r}.")
        body[name] = value
    elif name in ("supervisorEId", "reportsToId"):
        if value is None or value == "":
            body["supervisorEId"] = None
            return
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise HrError(400, "BadRequest",
                          f"{name} must be an employee id, got {json.dumps(value)}.")
        sup = str(value)
        if sup == checks.self_id or not checks.employee_exists(sup):
            raise _conflict(f"{name} {sup!r} is not another existing employee.")
        body["supervisorEId"] = sup
    else:
        body.setdefault("_extra", {})[name] = value


def apply_changes(body: dict[str, Any], changes: dict[str, Any], checks: Checks) -> dict[str, Any]:
    """A new body with ``changes`` applied; raises :class:`HrError` and leaves ``body`` alone."""
    updated = copy.deepcopy(body)
    for name, value in changes.items():
        _apply_one(updated, name, value, checks)
    return updated


def new_body(changes: dict[str, Any], checks: Checks, created_ms: int) -> dict[str, Any]:
    """The stored body of a created employee (firstName and lastName required)."""
    missing = [name for name in ("firstName", "lastName") if name not in changes]
    if missing:
        raise HrError(400, "BadRequest", "A new employee needs firstName and lastName; "
                                         f"missing: {', '.join(missing)}.")
    base: dict[str, Any] = {
        "employeeNumber": None, "firstName": None, "lastName": None, "preferredName": None,
        "jobTitle": None, "workEmail": None, "department": None, "division": None,
        "location": None, "supervisorEId": None, "status": "Active", "hireDate": None,
        "terminationDate": None, "_createdMs": created_ms, "_extra": {},
    }
    return apply_changes(base, changes, checks)
