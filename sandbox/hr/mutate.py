"""Realistic HR changes: promotions and moves, a few hires, a few leavers, rarely a deletion.

Every change of one call shares one fresh ``lastChanged`` stamp (real now), so
``employees/changed?since=<latest before the call>`` returns exactly the ids this call touched.
BambooHR's webhooks are optional and not emulated: nothing is sent.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from sandbox.context import SystemContext
from sandbox.hr.fields import utc_date
from sandbox.hr.org import (
    FIRST_NAMES,
    LAST_NAMES,
    division_for,
    employee_number,
    location_for,
    titles_for,
)
from sandbox.hr.records import OBJECT, live, make_doc, new_employee_id, next_stamp
from sandbox.store import Doc, Store


def plan_counts(employees: int, fraction: float) -> dict[str, int]:
    """How many updates, hires, leavers and deletions a mutate of ``fraction`` makes.

    >>> plan_counts(300, 0.01)
    {'updated': 3, 'created': 1, 'terminated': 1, 'archived': 0}
    >>> plan_counts(1000, 0.1)
    {'updated': 100, 'created': 20, 'terminated': 20, 'archived': 2}
    """
    n = max(1, round(employees * fraction))
    return {"updated": n, "created": max(1, n // 5), "terminated": max(1, n // 5),
            "archived": n // 50}


def _promote(body: dict[str, Any], rng: random.Random, departments: list[str]) -> None:
    """A new job title, and now and then a move to another department."""
    if len(departments) > 1 and rng.random() < 0.3:
        body["department"] = rng.choice([d for d in departments if d != body.get("department")])
        body["division"] = division_for(body["department"])
    titles = [t for t in titles_for(body.get("department")) if t != body.get("jobTitle")]
    body["jobTitle"] = rng.choice(titles)


def _next_entity_id(store: Store) -> str:
    """A new entity id (``employee-00042``) after every one the truth table knows."""
    start = 0
    if store.meta_get("counter:employee_entity") is None:
        start = max((int(entity.rsplit("-", 1)[1]) for obj, _rid, entity in store.truth_rows()
                     if obj == OBJECT and entity.rsplit("-", 1)[-1].isdigit()), default=0)
    return f"employee-{store.next_id('employee_entity', start=start):05d}"


def _hire(store: Store, rng: random.Random, stamp: int, managers: list[Doc],
          departments: list[str], domain: str, taken: set[str]) -> tuple[Doc, str]:
    employee_id = new_employee_id(store)
    entity_id = _next_entity_id(store)
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email = f"{first}.{last}@{domain}".lower()
    n = 2
    while email in taken:
        email = f"{first}.{last}{n}@{domain}".lower()
        n += 1
    taken.add(email)
    department = rng.choice(departments) if departments else "Operations"
    same_dept = [m for m in managers if m.body.get("department") == department] or managers
    supervisor = rng.choice(same_dept).id if same_dept else None
    body: dict[str, Any] = {
        "employeeNumber": employee_number(employee_id), "firstName": first, "lastName": last,
        "preferredName": None, "jobTitle": titles_for(department)[0], "workEmail": email,
        "department": department, "division": division_for(department),
        "location": location_for(entity_id), "supervisorEId": supervisor, "status": "Active",
        "hireDate": utc_date(stamp), "terminationDate": None, "_createdMs": stamp, "_extra": {},
    }
    return make_doc(employee_id, body, stamp), entity_id


def mutate(ctx: SystemContext, fraction: float, rng: random.Random) -> dict[str, int]:
    """Change about ``fraction`` of the employees; returns what was done, by kind."""
    store = ctx.store
    with store.lock:
        docs = live(store)
        active = [d for d in docs if d.body.get("status") == "Active"]
        if not active:
            raise ValueError("the HR sandbox has no active employees to change: seed it first "
                             "(goldloop sandbox up)")
        plan = plan_counts(len(docs), fraction)
        stamp = next_stamp(store)
        today = utc_date(stamp)
        departments = sorted({str(d.body["department"]) for d in docs if d.body.get("department")})
        domain = Counter(
            str(d.body.get("workEmail", "")).rpartition("@")[2] for d in docs
            if d.body.get("workEmail")
        ).most_common(1)
        email_domain = domain[0][0] if domain else "goldloop.example"
        taken = {d.key for d in store.iter_all(OBJECT) if d.key}

        touched = rng.sample(active, min(len(active),
                                         plan["updated"] + plan["terminated"] + plan["archived"]))
        leavers = touched[: plan["terminated"]]
        deleted = touched[plan["terminated"]: plan["terminated"] + plan["archived"]]
        movers = touched[plan["terminated"] + plan["archived"]:]
        changed: list[Doc] = []
        for doc in movers:
            _promote(doc.body, rng, departments)
            changed.append(make_doc(doc.id, doc.body, stamp))
        for doc in leavers:
            doc.body.update(status="Inactive", terminationDate=today)
            changed.append(make_doc(doc.id, doc.body, stamp))
        for doc in deleted:
            changed.append(make_doc(doc.id, doc.body, stamp, archived=True))
        gone = {d.id for d in leavers} | {d.id for d in deleted}
        managers = [d for d in active if d.id not in gone]
        hires = [_hire(store, rng, stamp, managers, departments, email_domain, taken)
                 for _ in range(plan["created"])]
        store.put_many(OBJECT, [*changed, *(doc for doc, _entity in hires)])
        store.add_truth((OBJECT, doc.id, entity) for doc, entity in hires)
    return {"updated": len(movers), "created": len(hires), "terminated": len(leavers),
            "archived": len(deleted)}
