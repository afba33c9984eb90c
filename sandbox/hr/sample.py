"""A small, fixed HR world (tests and demos of the emulator without the full world generator).

One manager per department heads it; every 9th employee has left (``Inactive`` with a
termination date) and every 13th was deleted from BambooHR (archived).

>>> world = sample_world(40)
>>> len(world.hr.employees), sum(e.archived for e in world.hr.employees)
(40, 3)
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

from sandbox.hr.fields import utc_date
from sandbox.hr.org import FIRST_NAMES, LAST_NAMES, TITLES
from sandbox.world.model import Employee, HrEmployee, World

DAY_MS = 86_400_000
SAMPLE_NOW_MS = int(datetime(2026, 11, 1, tzinfo=UTC).timestamp() * 1000)


def sample_world(employees: int = 40, seed: int = 1, now_ms: int = SAMPLE_NOW_MS) -> World:
    """A world holding only employees (entity ids ``employee-00001``, HR ids from ``101``)."""
    rng = random.Random(seed)
    departments = list(TITLES)
    world = World(seed=seed, customers=0, now_ms=now_ms)
    for i in range(1, employees + 1):
        dept_index = (i - 1) % len(departments)
        department = departments[dept_index]
        is_manager = i <= len(departments)
        first = FIRST_NAMES[i % len(FIRST_NAMES)]
        last = LAST_NAMES[(i * 7) % len(LAST_NAMES)]
        created = now_ms - rng.randint(200, 2000) * DAY_MS
        updated = min(created + rng.randint(0, 150) * DAY_MS, now_ms - DAY_MS)
        left = i % 9 == 0
        entity = Employee(
            entity_id=f"employee-{i:05d}", first_name=first, last_name=last,
            work_email=f"{first}.{last}.{i}@goldloop.example".lower(), department=department,
            job_title=TITLES[department][-1] if is_manager else rng.choice(TITLES[department]),
            supervisor_entity_id=None if is_manager else f"employee-{dept_index + 1:05d}",
            hire_date=utc_date(created),
            termination_date=utc_date(updated) if left else None,
        )
        world.employees.append(entity)
        world.hr.employees.append(HrEmployee(
            record_id=str(100 + i), entity_id=entity.entity_id, created_ms=created,
            updated_ms=updated, archived=not is_manager and i % 13 == 0,
            first_name=first, last_name=last, work_email=entity.work_email,
            department=department, job_title=entity.job_title,
            supervisor_record_id=None if is_manager else str(101 + dept_index),
            hire_date=entity.hire_date, termination_date=entity.termination_date,
            status="Inactive" if left else "Active",
        ))
    return world
