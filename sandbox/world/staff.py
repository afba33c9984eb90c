"""Staff in the systems: HR's employee records, and the CRM owners (sales users), leavers too."""

from __future__ import annotations

import math

from sandbox.world.build import Build
from sandbox.world.clock import DAY_MS, HOUR_MS, NOW_MS, START_MS, iso_date
from sandbox.world.ids import CRM_OWNER_START, CRM_USER_START
from sandbox.world.model import Break, CrmOwner, HrEmployee

OWNER_SHARE_OF_SALES = 0.30


def make_hr_employees(b: Build) -> None:
    """One BambooHR record per employee (ids "1", "2", ... in hiring-plan order)."""
    rng = b.rng("hr")
    hr = b.world.hr.employees
    for k, employee in enumerate(b.world.employees):
        hired, term = b.employee_hire_ms[k], b.employee_term_ms[k]
        # The HR system went live in January 2024; earlier hires were imported then.
        created = max(hired, START_MS + int(rng.random() * 20 * DAY_MS)) + int(
            rng.random() * 8 * HOUR_MS)
        created = min(created, NOW_MS)
        if term is not None:
            updated = min(NOW_MS, max(created, term) + int(rng.random() * 3 * DAY_MS))
        else:
            updated = created + int(rng.random() ** 2 * (NOW_MS - created))
        boss = employee.supervisor_entity_id
        hr.append(HrEmployee(
            record_id=str(k + 1),
            entity_id=employee.entity_id,
            created_ms=created,
            updated_ms=updated,
            archived=False,
            first_name=employee.first_name,
            last_name=employee.last_name,
            work_email=employee.work_email,
            department=employee.department,
            job_title=employee.job_title,
            supervisor_record_id=str(int(boss[9:])) if boss else None,
            hire_date=employee.hire_date,
            termination_date=employee.termination_date,
            status="Inactive" if employee.termination_date else "Active",
        ))


def make_crm_owners(b: Build) -> None:
    """CRM users for about 30% of sales staff; half the leavers among them are still active."""
    rng = b.rng("owners")
    employees = b.world.employees
    sales = [k for k, e in enumerate(employees) if e.department == "Sales"]
    chosen = rng.sample(sales, min(len(sales), max(2, round(len(sales) * OWNER_SHARE_OF_SALES))))
    leavers = [k for k in sales if b.employee_term_ms[k] is not None]
    if leavers and not any(b.employee_term_ms[k] is not None for k in chosen):
        chosen[-1] = leavers[int(rng.random() * len(leavers))]
    chosen.sort()
    owner_leavers = [k for k in chosen if b.employee_term_ms[k] is not None]
    still_active = set(rng.sample(owner_leavers, math.ceil(len(owner_leavers) / 2)))
    for n, k in enumerate(chosen):
        employee = employees[k]
        term = b.employee_term_ms[k]
        created = max(b.employee_hire_ms[k], START_MS) + int(rng.random() * 5 * DAY_MS)
        created = min(created, NOW_MS)
        archived = term is not None and k not in still_active
        if archived and term is not None:
            updated = min(NOW_MS, max(created, term + int(rng.random() * 10 * DAY_MS)))
        else:
            updated = created + int(rng.random() * (NOW_MS - created))
        owner = CrmOwner(
            record_id=str(CRM_OWNER_START + n),
            entity_id=employee.entity_id,
            created_ms=created,
            updated_ms=updated,
            archived=archived,
            user_id=CRM_USER_START + n,
            email=employee.work_email,
            first_name=employee.first_name,
            last_name=employee.last_name,
        )
        b.world.crm.owners.append(owner)
        if not archived:
            b.active_owner_ids.append(owner.record_id)
        if k in still_active and term is not None:
            b.world.breaks.append(Break(
                kind="leaver_active_owner",
                system="crm",
                record_id=owner.record_id,
                detail=(f"owner {employee.work_email} (hr employee {k + 1}) left on "
                        f"{iso_date(term)} but is still an active CRM owner"),
            ))
