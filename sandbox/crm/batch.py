"""Record writes and reads for one or many inputs (the single-record routes are batches of one).

Each operation validates every input first, collects per-input errors in HubSpot's
``StandardError`` shape, and returns the changes to commit; nothing is written for an input
that fails. :func:`response` turns results and errors into the 200/201/207 batch body.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from sandbox.crm import associations
from sandbox.crm.errors import standard_error, validation_error
from sandbox.crm.objects import ObjectType, PropertyDef
from sandbox.crm.records import (
    Change,
    archived_doc,
    last_record_id,
    lookup,
    new_doc,
    save_record_id,
    updated_doc,
)
from sandbox.crm.render import iso, public_record, select_properties
from sandbox.crm.validate import check_properties, describe
from sandbox.store import Doc, Store
from sandbox.webhooks import now_ms

Value = str | int | float | bool | None


class AssociationTo(BaseModel):
    id: str | int


class AssociationType(BaseModel):
    associationCategory: str = "HUBSPOT_DEFINED"
    associationTypeId: int


class AssociationInput(BaseModel):
    to: AssociationTo
    types: list[AssociationType]


class CreateInput(BaseModel):
    properties: dict[str, Value] = Field(default_factory=dict)
    associations: list[AssociationInput] = Field(default_factory=list)


class UpdateInput(BaseModel):
    id: str | int
    idProperty: str | None = None
    properties: dict[str, Value] = Field(default_factory=dict)


class IdInput(BaseModel):
    id: str | int


class BatchCreate(BaseModel):
    inputs: list[CreateInput]


class BatchUpdate(BaseModel):
    inputs: list[UpdateInput]


class BatchIds(BaseModel):
    inputs: list[IdInput]


class BatchRead(BaseModel):
    inputs: list[IdInput]
    properties: list[str] = Field(default_factory=list)
    propertiesWithHistory: list[str] = Field(default_factory=list)
    idProperty: str | None = None


@dataclass
class Outcome:
    """What a batch did: result docs (with ``new`` flags for upserts), errors and changes."""

    docs: list[tuple[Doc, bool]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    written: set[str] = field(default_factory=set)


@dataclass
class Batch:
    """Everything a batch operation needs about one object type of one store.

    A batch runs under ``store.lock`` and commits only at its end, so the store it reads does
    not change while it runs: live records found by key are remembered for the whole batch, and
    new record ids are counted here and saved once (:meth:`save_ids`) before the commit.
    """

    store: Store
    obj: ObjectType
    known: dict[str, PropertyDef]
    now: int
    owner_exists: Callable[[str], bool]
    claimed: dict[str, str] = field(default_factory=dict)  # unique key -> id (this batch)
    live: dict[str, Doc | None] = field(default_factory=dict)  # key -> live record (store)
    live_ids: dict[str, Doc | None] = field(default_factory=dict)  # id -> live record (store)
    issued: int | None = None  # the last record id handed out by this batch

    def by_key(self, key: str) -> Doc | None:
        """The first live record whose indexed key is ``key`` (as stored before this batch)."""
        if key not in self.live:
            found = self.store.query(self.obj.name, "key = ? AND archived = 0", (key,), limit=1)
            self.live[key] = found[0] if found else None
        return self.live[key]

    def prefetch(self, keys: Sequence[str]) -> None:
        """Look up many keys in one query (what :meth:`by_key` would find one by one)."""
        wanted = sorted({k for k in keys if k not in self.live})
        for start in range(0, len(wanted), 500):
            part = wanted[start:start + 500]
            marks = ", ".join("?" for _ in part)
            # ordered by the key index (key, then seq): ORDER BY seq alone makes SQLite walk
            # the archived index, a scan of every record
            for doc in self.store.query(self.obj.name, f"key IN ({marks}) AND archived = 0",
                                        tuple(part), order="key, seq"):
                if doc.key is not None:
                    self.live.setdefault(doc.key, doc)  # the first (lowest seq) one wins
            for key in part:
                self.live.setdefault(key, None)

    def _by_key_property(self, id_property: str | None) -> bool:
        return id_property is not None and id_property == self.obj.key_property and \
            self.known[id_property].unique

    def find(self, value: str, id_property: str | None) -> Doc | None:
        """A live record by id or unique property, like :func:`records.lookup`."""
        if not id_property or id_property == "hs_object_id":
            if value not in self.live_ids:
                self.live_ids[value] = lookup(self.store, self.obj, value, self.known)
            return self.live_ids[value]
        if self._by_key_property(id_property):
            return self.by_key(value.strip().lower())
        return lookup(self.store, self.obj, value, self.known, id_property)

    def prefetch_inputs(self, inputs: Sequence[UpdateInput]) -> None:
        """Look up in two queries the records that inputs name by id or by the indexed unique
        property (what :meth:`find` would look up one by one)."""
        self.prefetch([str(i.id).strip().lower() for i in inputs
                       if self._by_key_property(i.idProperty)])
        ids = sorted({str(i.id) for i in inputs if not i.idProperty
                      or i.idProperty == "hs_object_id"} - self.live_ids.keys())
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            marks = ", ".join("?" for _ in part)
            for doc in self.store.query(self.obj.name, f"id IN ({marks}) AND archived = 0",
                                        tuple(part), order="id"):
                self.live_ids[doc.id] = doc
            for record_id in part:
                self.live_ids.setdefault(record_id, None)

    def new_id(self) -> str:
        """The next record id (continues the store's counter; saved by :meth:`save_ids`)."""
        if self.issued is None:
            self.issued = last_record_id(self.store, self.obj)
        self.issued += 1
        return str(self.issued)

    def save_ids(self) -> None:
        """Remember the record ids this batch handed out (call before committing)."""
        if self.issued is not None:
            save_record_id(self.store, self.obj, self.issued)

    def conflict(self, properties: dict[str, str | None], own_id: str | None) -> str | None:
        """The id of another live record that already holds this record's email."""
        if self.obj.name != "contacts" or not properties.get("email"):
            return None
        email = str(properties["email"])
        holder = self.claimed.get(email)
        if holder is None:
            found = self.by_key(email)
            holder = found.id if found is not None else None
        return holder if holder is not None and holder != own_id else None


def check_batch_size(count: int, maximum: int) -> None:
    """400 (and nothing written) when a batch is empty or has more than ``maximum`` inputs."""
    if count > maximum:
        raise validation_error(
            f"Batch has {count} inputs; at most {maximum} are allowed per request. "
            "Split the inputs into several batches.",
            context={"maxInputs": [str(maximum)], "inputs": [str(count)]})


def check_unique_ids(ids: Sequence[str]) -> None:
    """400 when the same id appears twice in one batch (HubSpot rejects the whole batch)."""
    duplicates = sorted(i for i, n in Counter(ids).items() if n > 1)
    if duplicates:
        raise validation_error(f"Duplicate IDs found in batch input: {duplicates}. IDs must be "
                               "unique", context={"ids": duplicates})


def _invalid(problems: list[dict[str, Any]]) -> dict[str, Any]:
    return standard_error("VALIDATION_ERROR", describe(problems),
                          {"propertyName": [p["name"] for p in problems]})


def _conflict(obj: ObjectType, existing: str) -> dict[str, Any]:
    return standard_error("CONFLICT", f"{obj.singular.capitalize()} already exists. "
                          f"Existing ID: {existing}", {"existingId": [existing]})


def _links(b: Batch, record_id: str, inputs: list[AssociationInput]
           ) -> tuple[list[associations.Row], str | None]:
    rows: list[associations.Row] = []
    for item in inputs:
        for spec in item.types:
            pair = associations.kind_for_type_id(spec.associationTypeId)
            if pair is None or pair[0] != b.obj.name:
                return [], (f"associationTypeId {spec.associationTypeId} cannot link a "
                            f"{b.obj.singular} (use a HUBSPOT_DEFINED type from {b.obj.name})")
            target = str(item.to.id)
            if not b.store.count(pair[1], "id = ? AND archived = 0", (target,)):
                return [], f"{pair[1]} {target} does not exist"
            kind = associations.KINDS[pair]
            rows += associations.both_ways(pair[0], record_id, pair[1], target,
                                           primary=spec.associationTypeId == kind.primary_type_id)
    return rows, None


def create(b: Batch, inputs: Sequence[CreateInput]) -> Outcome:
    """Create one record per input."""
    out = Outcome()
    for item in inputs:
        clean, problems = check_properties(b.known, item.properties, b.owner_exists)
        if problems:
            out.errors.append(_invalid(problems))
            continue
        existing = b.conflict(clean, None)
        if existing is not None:
            out.errors.append(_conflict(b.obj, existing))
            continue
        record_id = b.new_id()
        links, problem = _links(b, record_id, item.associations)
        if problem:
            out.errors.append(standard_error("VALIDATION_ERROR", problem, {}))
            continue
        doc = new_doc(b.obj, record_id, clean, b.now)
        if b.obj.name == "contacts" and clean.get("email"):
            b.claimed[str(clean["email"])] = record_id
        out.docs.append((doc, True))
        out.written |= clean.keys()
        out.changes.append(Change(b.obj, doc, "creation", clean, links))
    return out


def _update_one(b: Batch, out: Outcome, doc: Doc, values: dict[str, Value]) -> None:
    clean, problems = check_properties(b.known, values, b.owner_exists)
    if problems:
        out.errors.append(_invalid(problems))
        return
    existing = b.conflict(clean, doc.id)
    if existing is not None:
        out.errors.append(_conflict(b.obj, existing))
        return
    new, changed = updated_doc(b.obj, doc, clean, b.now)
    if b.obj.name == "contacts" and clean.get("email"):
        b.claimed[str(clean["email"])] = doc.id
    out.docs.append((new, False))
    out.written |= clean.keys()
    if changed:
        out.changes.append(Change(b.obj, new, "propertyChange", changed))


def update(b: Batch, inputs: Sequence[UpdateInput]) -> Outcome:
    """Update existing records (by id or ``idProperty``); unknown ones are one error."""
    out = Outcome()
    missing: list[str] = []
    b.prefetch_inputs(inputs)
    for item in inputs:
        doc = b.find(str(item.id), item.idProperty)
        if doc is None:
            missing.append(str(item.id))
            continue
        _update_one(b, out, doc, item.properties)
    if missing:
        out.errors.append(standard_error(
            "OBJECT_NOT_FOUND", f"Could not get some {b.obj.singular.upper()} objects, they may "
            "be deleted or not exist. Check that ids are valid.", {"ids": missing}))
    return out


def upsert(b: Batch, inputs: Sequence[UpdateInput]) -> Outcome:
    """Update records found by ``idProperty`` (e.g. email) and create the others."""
    out = Outcome()
    missing: list[str] = []
    b.prefetch_inputs(inputs)
    for item in inputs:
        key = str(item.id)
        doc = b.find(key, item.idProperty)
        if doc is not None:
            _update_one(b, out, doc, item.properties)
            continue
        if not item.idProperty or item.idProperty == "hs_object_id":
            missing.append(key)
            continue
        values = {**item.properties, item.idProperty: key}
        created = create(b, [CreateInput(properties=values)])
        out.docs += created.docs
        out.errors += created.errors
        out.changes += created.changes
        out.written |= created.written
    if missing:
        out.errors.append(standard_error(
            "OBJECT_NOT_FOUND", f"Could not find {b.obj.singular} ids {missing}: to create "
            "records with an upsert, pass a unique idProperty such as email.", {"ids": missing}))
    return out


def read(b: Batch, ids: Sequence[str], id_property: str | None, archived: bool) -> Outcome:
    """Read records by id or ``idProperty``; unknown ones are one error."""
    out = Outcome()
    missing: list[str] = []
    for key in ids:
        doc = lookup(b.store, b.obj, key, b.known, id_property, archived)
        if doc is None:
            missing.append(key)
        else:
            out.docs.append((doc, False))
    if missing:
        out.errors.append(standard_error(
            "OBJECT_NOT_FOUND", f"Could not get some {b.obj.singular.upper()} objects, they may "
            "be deleted or not exist. Check that ids are valid.", {"ids": missing}))
    return out


def archive(b: Batch, ids: Sequence[str]) -> Outcome:
    """Archive live records; ids that are unknown or already archived are ignored (as HubSpot)."""
    out = Outcome()
    for key in ids:
        doc = lookup(b.store, b.obj, key, b.known)
        if doc is not None:
            gone = archived_doc(b.obj, doc, b.now)
            out.changes.append(Change(b.obj, gone, "deletion"))
    return out


def response(obj: ObjectType, known: dict[str, PropertyDef], out: Outcome, started: int,
             requested: list[str] | None, *, upsert: bool = False,
             ok_status: int = 200) -> tuple[int, dict[str, Any]]:
    """The batch body: ``ok_status`` when every input succeeded, 207 with ``errors`` otherwise."""
    names = select_properties(obj, requested if requested else sorted(out.written), known)
    results = []
    for doc, is_new in out.docs:
        record = public_record(doc.body, names)
        if upsert:
            record["new"] = is_new
        results.append(record)
    body: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": iso(started),
                            "completedAt": iso(max(started, now_ms()))}
    if out.errors:
        body["numErrors"] = len(out.errors)
        body["errors"] = out.errors
        return 207, body
    return ok_status, body
