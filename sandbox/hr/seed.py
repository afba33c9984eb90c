"""Render the world's HR records into the BambooHR emulator's store (plus truth and breaks)."""

from __future__ import annotations

from typing import Any

from sandbox.hr.org import division_for, employee_number, location_for
from sandbox.hr.records import OBJECT, make_doc, note_ids, note_stamp
from sandbox.store import Doc, Store
from sandbox.world.model import HrEmployee, World


def employee_body(record: HrEmployee) -> dict[str, Any]:
    """The stored body of one world employee record (BambooHR field names).

    >>> from sandbox.world.model import HrEmployee
    >>> rec = HrEmployee("7", "employee-00007", 0, 0, False, "Ada", "Lovelace", "ada@x.io",
    ...                  "Engineering", "Staff Engineer", None, "2020-01-06", None, "Active")
    >>> body = employee_body(rec)
    >>> body["employeeNumber"], body["division"], body["terminationDate"]
    ('00007', 'Technology', None)
    """
    return {
        "employeeNumber": employee_number(record.record_id),
        "firstName": record.first_name,
        "lastName": record.last_name,
        "preferredName": None,
        "jobTitle": record.job_title,
        "workEmail": record.work_email,
        "department": record.department,
        "division": division_for(record.department),
        "location": location_for(record.entity_id),
        "supervisorEId": record.supervisor_record_id,
        "status": record.status,
        "hireDate": record.hire_date,
        "terminationDate": record.termination_date,
        "_createdMs": record.created_ms,
        "_extra": {},
    }


def employee_doc(record: HrEmployee) -> Doc:
    """One world employee record as a stored document (archived = deleted in BambooHR)."""
    return make_doc(record.record_id, employee_body(record), record.updated_ms, record.archived)


def seed(world: World, store: Store) -> None:
    """Write ``world.hr.employees``, their truth rows and the world's ``hr`` breaks."""
    records = world.hr.employees
    store.put_many(OBJECT, (employee_doc(r) for r in records))
    store.add_truth((OBJECT, r.record_id, r.entity_id) for r in records)
    store.add_breaks(
        (b.kind, b.record_id, b.detail) for b in world.breaks if b.system == "hr"
    )
    note_ids(store, [r.record_id for r in records])
    if records:
        note_stamp(store, max(r.updated_ms for r in records))
