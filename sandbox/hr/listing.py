"""``GET /api/v1/employees``: query parsing, filtering, sorting and cursor paging (pure).

Cursors are opaque to clients: base64 of ``{"cursor": "after-<employeeId>"}`` (the form the
spec's example shows). The page continues after (or before) that boundary employee in the
requested sort order; when the boundary employee no longer matches, the answer is 400
``BadPage``, as BambooHR documents.

>>> q = parse_list_query([("page[limit]", "2"), ("filter[status]", "active")])
>>> q.limit, q.status
(2, 'active')
>>> rows = [{"employeeId": str(i), "status": "Active"} for i in (1, 2, 3)]
>>> page = select_page(rows, q)
>>> [r["employeeId"] for r in page.rows], decode_cursor(page.next_cursor or "", "after")
(['1', '2'], '2')
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from sandbox.hr.fields import nulls_first
from sandbox.hr.replies import HrError

DEFAULT_LIMIT = 250
MAX_LIMIT = 2500

BASE_FIELDS: tuple[str, ...] = (
    "employeeId", "firstName", "lastName", "preferredName", "photoUrl", "jobTitleName", "status",
)
# The spec's EmployeeOptionalField: the only names ``fields`` adds (others are ignored).
OPTIONAL_FIELDS: tuple[str, ...] = (
    "workEmail", "homeEmail", "bestEmail", "middleName", "workPhone", "workPhoneExtension",
    "mobilePhone", "homePhone", "skypeUsername", "linkedinUrl", "facebookUrl", "instagramUrl",
    "twitterUrl", "pinterestUrl", "birthDate", "hireDate", "divisionName", "divisionId",
    "departmentName", "departmentId", "locationName", "locationId", "jobTitleId",
    "employmentStatusName", "employmentStatusId", "reportsToName", "reportsToId",
)
SORTABLE: frozenset[str] = frozenset(
    {"employeeId", "firstName", "lastName", "preferredName", "jobTitleName", "status"}
)
SUBSTRING_FILTERS: tuple[str, ...] = ("firstName", "lastName", "jobTitleName")


def _bad(message: str, code: str = "BadRequest") -> HrError:
    return HrError(400, code, message)


@dataclass
class ListQuery:
    """A validated list request."""

    limit: int = DEFAULT_LIMIT
    after: str | None = None
    before: str | None = None
    fields: list[str] = field(default_factory=list)
    sort: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    status: str | None = None
    ids: set[str] | None = None
    contains: dict[str, str] = field(default_factory=dict)


def encode_cursor(direction: str, employee_id: str) -> str:
    """An opaque cursor pointing ``after``/``before`` one employee."""
    raw = json.dumps({"cursor": f"{direction}-{employee_id}"}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_cursor(token: str, direction: str) -> str:
    """The boundary employee id of a cursor made for ``direction`` (400 ``BadPage`` otherwise).

    >>> decode_cursor(encode_cursor("after", "12"), "after")
    '12'
    """
    try:
        padded = token + "=" * (-len(token) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
        kind, _, employee_id = str(payload["cursor"]).partition("-")
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise _bad(f"page[{direction}] is not a cursor this API issued.", "BadPage") from exc
    if kind != direction or not employee_id:
        raise _bad(f"page[{direction}] holds a cursor for the other direction.", "BadPage")
    return employee_id


def _split(values: list[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _limit(text: str) -> int:
    try:
        limit = int(text)
    except ValueError as exc:
        raise _bad(f"page[limit] must be an integer, got {text!r}.") from exc
    if not 1 <= limit <= MAX_LIMIT:
        raise _bad(f"page[limit] must be between 1 and {MAX_LIMIT}, got {limit}.")
    return limit


def _sort(text: str) -> list[tuple[str, bool]]:
    rules = []
    for part in _split([text]):
        name = part.lstrip("-")
        if name not in SORTABLE:
            raise _bad(f"cannot sort by {name!r}; sortable fields: {', '.join(sorted(SORTABLE))}.")
        rules.append((name, part.startswith("-")))
    return rules


def parse_list_query(items: list[tuple[str, str]]) -> ListQuery:
    """Validate the query string (as ``(name, value)`` pairs) of a list request."""
    query = ListQuery()
    fields: list[str] = []
    ids: list[str] = []
    for name, value in items:
        if name == "page[limit]":
            query.limit = _limit(value)
        elif name in ("page[after]", "page[before]"):
            direction = name[5:-1]
            setattr(query, direction, decode_cursor(value, direction))
        elif name == "sort":
            query.sort = _sort(value)
        elif name in ("fields", "fields[]"):
            fields.append(value)
        elif name in ("filter[ids]", "filter[ids][]"):
            ids.append(value)
        elif name == "filter[status]":
            if value not in ("active", "inactive"):
                raise _bad(f"filter[status] must be 'active' or 'inactive', got {value!r}.")
            query.status = value
        elif name.startswith("filter[") and name[7:-1] in SUBSTRING_FILTERS:
            query.contains[name[7:-1]] = value.lower()
        elif name.startswith(("filter", "page")):
            raise _bad(f"unknown parameter {name!r}.")
    if query.after and query.before:
        raise _bad("send page[after] or page[before], not both.", "BadPage")
    query.fields = [f for f in dict.fromkeys(_split(fields)) if f in OPTIONAL_FIELDS]
    if ids:
        parsed = _split(ids)
        if not all(i.isdigit() for i in parsed):
            raise _bad(f"filter[ids] must be employee ids (integers), got {parsed!r}.")
        query.ids = {str(int(i)) for i in parsed}
    return query


def matches(row: dict[str, Any], query: ListQuery) -> bool:
    """True when a rendered row passes the query's filters."""
    if query.ids is not None and row["employeeId"] not in query.ids:
        return False
    if query.status and str(row.get("status") or "").lower() != query.status:
        return False
    return all(
        needle in str(row.get(name) or "").lower() for name, needle in query.contains.items()
    )


def _id_key(employee_id: str) -> tuple[int, str]:
    return (int(employee_id), "") if employee_id.isdigit() else (1 << 62, employee_id)


def sort_rows(rows: list[dict[str, Any]], rules: list[tuple[str, bool]]) -> list[dict[str, Any]]:
    """Sort by the rules (nulls first ascending, last descending), then by employee id."""
    ordered = sorted(rows, key=lambda r: _id_key(r["employeeId"]))
    for name, descending in reversed(rules):
        if name == "employeeId":
            ordered.sort(key=lambda r: _id_key(r["employeeId"]), reverse=descending)
            continue
        ordered.sort(key=nulls_first(name), reverse=descending)
    return ordered


@dataclass
class Page:
    rows: list[dict[str, Any]]
    total: int
    next_cursor: str | None
    prev_cursor: str | None


def select_page(rows: list[dict[str, Any]], query: ListQuery) -> Page:
    """Filter, sort and cut one page out of every rendered row."""
    ordered = sort_rows([r for r in rows if matches(r, query)], query.sort)
    positions = {r["employeeId"]: i for i, r in enumerate(ordered)}
    boundary = query.after or query.before
    if boundary is not None and boundary not in positions:
        raise _bad("the page cursor's employee no longer matches this query; start over.",
                   "BadPage")
    if query.before is not None:
        end = positions[query.before]
        start = max(end - query.limit, 0)
    else:
        start = positions[query.after] + 1 if query.after is not None else 0
        end = start + query.limit
    chunk = ordered[start:end]
    has_next = end < len(ordered) and bool(chunk)
    has_prev = start > 0 and bool(chunk)
    return Page(
        rows=chunk,
        total=len(ordered),
        next_cursor=encode_cursor("after", chunk[-1]["employeeId"]) if has_next else None,
        prev_cursor=encode_cursor("before", chunk[0]["employeeId"]) if has_prev else None,
    )
