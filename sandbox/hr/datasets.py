"""BambooHR's Datasets API for the ``employee`` dataset: field catalog, request checks, paging.

>>> q = parse_data_request({"fields": ["firstName", "status"], "filter": "status eq 'Active'",
...                         "orderBy": "firstName desc", "pageSize": 2})
>>> rows = [{"firstName": n, "status": s} for n, s in [("A", "Active"), ("B", "Inactive"),
...                                                   ("C", "Active")]]
>>> [r["firstName"] for r in run_query(rows, q)[0]]
['C', 'A']
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sandbox.hr.fields import nulls_first
from sandbox.hr.odata import Predicate, compile_filter, field_names
from sandbox.hr.replies import HrError

DATASET = "employee"
DATASET_LABEL = "Employee"
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100

# (name, label, section): the fields the sandbox's employee dataset offers.
FIELDS: tuple[tuple[str, str, str], ...] = (
    ("employeeId", "Employee ID", "Personal"),
    ("employeeNumber", "Employee #", "Personal"),
    ("firstName", "First Name", "Personal"),
    ("lastName", "Last Name", "Personal"),
    ("preferredName", "Preferred Name", "Personal"),
    ("displayName", "Display Name", "Personal"),
    ("status", "Status", "Personal"),
    ("workEmail", "Work Email", "Contact"),
    ("hireDate", "Hire Date", "Job"),
    ("originalHireDate", "Original Hire Date", "Job"),
    ("terminationDate", "Termination Date", "Job"),
    ("employmentHistoryStatus", "Employment Status", "Job"),
    ("jobTitle", "Job Title", "Job"),
    ("department", "Department", "Job"),
    ("division", "Division", "Job"),
    ("location", "Location", "Job"),
    ("supervisor", "Reporting to", "Job"),
    ("supervisorEId", "Supervisor Employee ID", "Job"),
    ("supervisorId", "Supervisor Employee #", "Job"),
    ("supervisorEmail", "Supervisor Email", "Job"),
    ("lastChanged", "Last Changed", "Personal"),
)
FIELD_NAMES: tuple[str, ...] = tuple(name for name, _label, _section in FIELDS)


def field_descriptors() -> list[dict[str, str]]:
    """The ``fields`` array of ``GET /api/v1_2/datasets/employee/fields``."""
    return [
        {"name": name, "label": label, "parentType": "page", "parentName": section,
         "entityName": section.lower()}
        for name, label, section in FIELDS
    ]


@dataclass
class DataQuery:
    fields: list[str]
    keep: Predicate | None
    order: list[tuple[str, bool]]  # (field, descending)
    page: int
    page_size: int


def _problem(status: int, code: str, message: str) -> HrError:
    return HrError(status, code, message)


def _int(payload: dict[str, Any], name: str, default: int) -> int:
    value = payload.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _problem(400, "INVALID_PARAMETER", f"{name} must be an integer, got {value!r}.")
    return value


def _order(text: str, fields: list[str]) -> list[tuple[str, bool]]:
    rules = []
    for rule in (r.strip() for r in text.split(",") if r.strip()):
        name, _, direction = rule.partition(" ")
        direction = direction.strip().lower() or "asc"
        if direction not in ("asc", "desc"):
            raise _problem(422, "INVALID_ORDER_BY", f"orderBy direction must be asc or desc: "
                                                    f"{rule!r}.")
        if name not in fields:
            raise _problem(422, "INVALID_ORDER_BY",
                           f"orderBy field {name!r} must also be listed in fields.")
        rules.append((name, direction == "desc"))
    return rules


def parse_data_request(payload: dict[str, Any]) -> DataQuery:
    """Validate a ``POST /api/v2/datasets/employee/data`` body."""
    fields = payload.get("fields")
    if not isinstance(fields, list) or not fields or not all(isinstance(f, str) for f in fields):
        raise _problem(400, "INVALID_PARAMETER",
                       "fields must be a non-empty array of field names.")
    unknown = [f for f in fields if f not in FIELD_NAMES]
    if unknown:
        raise _problem(400, "INVALID_FIELD", f"Unknown field(s) for dataset 'employee': "
                                              f"{', '.join(unknown)}. See "
                                              "/api/v1_2/datasets/employee/fields.")
    keep = None
    text = payload.get("filter")
    if text is not None:
        if not isinstance(text, str):
            raise _problem(400, "INVALID_PARAMETER", "filter must be a string or null.")
        if text.strip():
            try:
                keep = compile_filter(text)
            except ValueError as exc:
                raise _problem(422, "INVALID_FILTER", str(exc)) from exc
            bad = sorted(field_names(text) - set(FIELD_NAMES))
            if bad:
                raise _problem(422, "INVALID_FILTER", f"filter names unknown field(s): "
                                                      f"{', '.join(bad)}.")
    order_by = payload.get("orderBy")
    if order_by is not None and not isinstance(order_by, str):
        raise _problem(400, "INVALID_PARAMETER", "orderBy must be a string or null.")
    page, size = _int(payload, "page", 1), _int(payload, "pageSize", DEFAULT_PAGE_SIZE)
    if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
        raise _problem(422, "INVALID_PAGINATION",
                       f"page must be >= 1 and pageSize between 1 and {MAX_PAGE_SIZE}.")
    return DataQuery(list(dict.fromkeys(fields)), keep, _order(order_by or "", fields), page, size)


def run_query(rows: list[dict[str, Any]], query: DataQuery) -> tuple[list[dict[str, Any]], int]:
    """One page of rows (only the requested fields) and the number of matching rows."""
    matched = [r for r in rows if query.keep is None or query.keep(r)]
    for name, descending in reversed(query.order):
        matched.sort(key=nulls_first(name), reverse=descending)
    start = (query.page - 1) * query.page_size
    page = matched[start:start + query.page_size]
    return [{name: row.get(name) for name in query.fields} for row in page], len(matched)


def total_pages(total: int, page_size: int) -> int:
    """How many pages ``total`` rows make (at least one).

    >>> total_pages(0, 100), total_pages(1001, 1000)
    (1, 2)
    """
    return max(1, math.ceil(total / page_size))
