"""BambooHR employees as raw rows: the fields a golden employee needs, the delete flag.

BambooHR prints every value as a string (dates ``YYYY-MM-DD``, ``0000-00-00`` or empty for none);
rows rename the fields to snake case, turn empty dates into nulls and normalise ``lastChanged``
to one UTC form so it can serve as the incremental cursor.
"""

from __future__ import annotations

from typing import Any

from dlt.common.schema.typing import TTableSchemaColumns

from pipelines.common.deletes import DELETED_COLUMN, DELETED_COLUMNS
from pipelines.common.incremental import iso_ms

# BambooHR field name → raw column.
FIELDS: dict[str, str] = {
    "employeeId": "id",
    "employeeNumber": "employee_number",
    "firstName": "first_name",
    "lastName": "last_name",
    "preferredName": "preferred_name",
    "displayName": "display_name",
    "workEmail": "work_email",
    "status": "status",
    "department": "department",
    "division": "division",
    "location": "location",
    "jobTitle": "job_title",
    "supervisorEId": "supervisor_e_id",
    "supervisorId": "supervisor_id",
    "supervisorEmail": "supervisor_email",
    "hireDate": "hire_date",
    "terminationDate": "termination_date",
    "lastChanged": "last_changed",
}
DATE_FIELDS = ("hireDate", "terminationDate")

COLUMNS: TTableSchemaColumns = {
    **{column: {"name": column, "data_type": "text"} for column in FIELDS.values()},
    "id": {"name": "id", "data_type": "text", "nullable": False},
    "hire_date": {"name": "hire_date", "data_type": "date"},
    "termination_date": {"name": "termination_date", "data_type": "date"},
    "last_changed": {"name": "last_changed", "data_type": "timestamp"},
    **DELETED_COLUMNS,
}


def empty_date(value: Any) -> Any:
    """None for BambooHR's empty dates.

    >>> empty_date("0000-00-00"), empty_date(""), empty_date("2024-02-29")
    (None, None, '2024-02-29')
    """
    return None if value in (None, "", "0000-00-00") else value


def to_row(fields: dict[str, Any]) -> dict[str, Any]:
    """One dataset row (``{"employeeId": ..., ...}``) as a raw row; unknown fields are kept.

    Terminated employees (``status`` Inactive) are flagged deleted: leavers never look live.

    >>> to_row({"employeeId": "4", "firstName": "Zoë", "hireDate": "0000-00-00",
    ...         "lastChanged": "2025-11-25T10:00:00+00:00"})  # doctest: +NORMALIZE_WHITESPACE
    {'id': '4', 'first_name': 'Zoë', 'hire_date': None,
     'last_changed': '2025-11-25T10:00:00.000Z', '_goldloop_deleted': False}
    >>> to_row({"employeeId": "5", "status": "Inactive"})["_goldloop_deleted"]
    True
    """
    row: dict[str, Any] = {}
    for name, value in fields.items():
        column = FIELDS.get(name, name)
        if name in DATE_FIELDS:
            value = empty_date(value)
        elif name == "lastChanged" and value:
            value = iso_ms(value)
        row[column] = value
    row["id"] = str(row["id"])
    row[DELETED_COLUMN] = str(row.get("status") or "").lower() == "inactive"
    return row


def deleted_row(employee_id: str, last_changed: str,
                previous: dict[str, Any] | None) -> dict[str, Any]:
    """The row of an employee BambooHR reports ``Deleted``: the last known values, flagged.

    >>> deleted_row("4", "2025-11-25T10:00:00+00:00", {"id": "4", "first_name": "Zoë"})
    ... # doctest: +NORMALIZE_WHITESPACE
    {'id': '4', 'first_name': 'Zoë', 'last_changed': '2025-11-25T10:00:00.000Z',
     '_goldloop_deleted': True}
    """
    row = dict(previous or {})
    row["id"] = str(employee_id)
    row["last_changed"] = iso_ms(last_changed)
    row[DELETED_COLUMN] = True
    return row
