"""Realistic CRM changes: sales reps edit contacts, companies and deals, add a few contacts and
deals, delete a few contacts; every change gets a fresh last-modified time and a webhook.

Times are spread over a few milliseconds per 50 changes (HubSpot users do not all click in the
same millisecond), never earlier than the call and never later than its return, so a connector
that windows its incremental search by last-modified time sees each change exactly once.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

from sandbox.context import SystemContext
from sandbox.crm import associations, hooks, records
from sandbox.crm.objects import COMPANIES, CONTACTS, DEAL_STAGES, DEALS, ObjectType
from sandbox.store import Doc, Store
from sandbox.webhooks import now_ms
from sandbox.world.names import person_name

CHANGES_PER_MS = 50
MUTATE_SOURCE = "CRM_UI"
LAST_NAMES = ("Andersen", "Brennan", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad",
              "Ivanova", "Jensen", "Kowalski", "Larsen", "Moreau", "Nakamura", "Okafor")
CITIES = ("Berlin", "Bristol", "Lyon", "Utrecht", "Porto", "Austin", "Denver", "Toronto",
          "Melbourne", "Dublin", "Malmo", "Gdansk")


def _sample_live(store: Store, obj: ObjectType, fraction: float, rng: random.Random) -> list[Doc]:
    """About ``fraction`` of the live records of ``obj`` (at least one when there are any)."""
    table = store.ensure(obj.name)
    with store.lock:
        seqs = [r[0] for r in store.conn.execute(
            f"SELECT seq FROM {table} WHERE archived = 0").fetchall()]
    if not seqs:
        return []
    chosen = sorted(rng.sample(seqs, min(len(seqs), max(1, round(len(seqs) * fraction)))))
    docs: list[Doc] = []
    for start in range(0, len(chosen), 500):
        part = chosen[start:start + 500]
        docs += store.query(obj.name, f"seq IN ({','.join('?' * len(part))})", tuple(part))
    return docs


def _phone(rng: random.Random) -> str:
    return f"+1 {rng.randint(200, 989)}-{rng.randint(200, 999)}-{rng.randint(1000, 9999)}"


def contact_edit(rng: random.Random, props: dict[str, str]) -> dict[str, str | None]:
    """A rep's edit of a contact: a new phone, a move to another city, or a new last name."""
    choice = rng.choice(("phone", "city", "lastname"))
    if choice == "phone":
        return {"phone": _phone(rng)}
    if choice == "city":
        return {"city": rng.choice([c for c in CITIES if c != props.get("city")])}
    last = person_name(rng)[1]
    while last == props.get("lastname"):
        last = person_name(rng)[1]
    return {"lastname": last}


def company_edit(rng: random.Random, props: dict[str, str]) -> dict[str, str | None]:
    """A new switchboard number or a move."""
    if rng.random() < 0.5:
        return {"phone": _phone(rng)}
    return {"city": rng.choice([c for c in CITIES if c != props.get("city")])}


def deal_edit(rng: random.Random, props: dict[str, str]) -> dict[str, str | None]:
    """A deal moves one stage on (open deals) or is re-opened at the first stage (closed ones).

    >>> deal_edit(random.Random(1), {"dealstage": "contractsent"})["dealstage"] in (
    ...     "closedwon", "closedlost")
    True
    """
    stage = props.get("dealstage", DEAL_STAGES[0])
    if stage in ("closedwon", "closedlost"):
        return {"dealstage": "qualifiedtobuy"}
    if stage == "contractsent":
        return {"dealstage": rng.choice(("closedwon", "closedlost"))}
    index = DEAL_STAGES.index(stage) if stage in DEAL_STAGES else 0
    return {"dealstage": DEAL_STAGES[index + 1]}


def _new_deal(store: Store, rng: random.Random, at: int, contact_id: str) -> records.Change:
    """A new open deal with one of the contacts just created."""
    record_id = records.next_record_id(store, DEALS)
    values: dict[str, str | None] = {
        "dealname": f"{rng.choice(LAST_NAMES)} - new business", "dealstage": DEAL_STAGES[0],
        "pipeline": "default", "amount": str(rng.randint(5, 500) * 100),
    }
    doc = records.new_doc(DEALS, record_id, values, at)
    links = associations.both_ways("deals", record_id, "contacts", contact_id)
    return records.Change(DEALS, doc, "creation", values, links)


EDITS = ((CONTACTS, contact_edit), (COMPANIES, company_edit), (DEALS, deal_edit))


def _clock(start: int) -> Iterator[int]:
    i = 0
    while True:
        yield start + i // CHANGES_PER_MS
        i += 1


def _edit_some(store: Store, fraction: float, rng: random.Random, clock: Iterator[int],
               counts: dict[str, int]) -> list[records.Change]:
    """Edit about ``fraction`` of each edited object type; archive 1 in 20 sampled contacts."""
    changes: list[records.Change] = []
    for obj, edit in EDITS:
        sample = _sample_live(store, obj, fraction, rng)
        archive_count = len(sample) // 20 if obj is CONTACTS else 0
        for doc in sample[:archive_count]:
            changes.append(records.Change(obj, records.archived_doc(obj, doc, next(clock)),
                                          "deletion"))
            counts["archived"] += 1
        for doc in sample[archive_count:]:
            new, changed = records.updated_doc(obj, doc, edit(rng, doc.body["properties"]),
                                               next(clock))
            if changed:
                changes.append(records.Change(obj, new, "propertyChange", changed))
                counts["updated"] += 1
    return changes


def _new_contact(store: Store, rng: random.Random, at: int) -> records.Change:
    """A contact a rep just met."""
    record_id = records.next_record_id(store, CONTACTS)
    first, last = person_name(rng)
    values: dict[str, str | None] = {
        "firstname": first, "lastname": last, "phone": _phone(rng),
        "email": f"{first}.{last}.{record_id}@example.net".lower(),
        "city": rng.choice(CITIES), "hs_email_optout": "false",
    }
    return records.Change(CONTACTS, records.new_doc(CONTACTS, record_id, values, at), "creation",
                          values)


def mutate(ctx: SystemContext, fraction: float, rng: random.Random) -> dict[str, int]:
    """Update about ``fraction`` of contacts, companies and deals, create and archive a few."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction {fraction} must be in (0, 1]")
    store = ctx.store
    records.ensure_schema(store)
    clock = _clock(now_ms())
    counts = {"updated": 0, "created": 0, "archived": 0}
    with store.lock:
        changes = _edit_some(store, fraction, rng, clock, counts)
        contacts = [_new_contact(store, rng, next(clock))
                    for _ in range(max(1, round(counts["updated"] / 10)))]
        deals = [_new_deal(store, rng, next(clock), rng.choice(contacts).doc.id)
                 for _ in range(max(1, round(counts["updated"] / 40)))]
        changes += contacts + deals
        counts["created"] = len(contacts) + len(deals)
        records.commit(store, changes)
        store.add_truth([("contacts", c.doc.id, f"person-crm-{c.doc.id}") for c in contacts]
                        + [("deals", d.doc.id, f"deal-crm-{d.doc.id}") for d in deals])
    latest = max((c.doc.updated_ms for c in changes), default=0)
    while now_ms() <= latest:  # never leave a last-modified time in the future
        time.sleep(0.001)
    counts["events"] = hooks.emit(ctx, changes, MUTATE_SOURCE)
    return counts
