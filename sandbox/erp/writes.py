"""Xero's batch write protocol, shared by ``PUT``/``POST`` on Contacts and Invoices.

- The body is ``{"<Plural>": [...]}`` (or one bare element), at most ``limits.erp_batch_max``
  elements, else 400 and nothing is written.
- Every element is checked before anything is written. A body Xero could not deserialise (bad
  JSON, wrong types) is a 400 ``PostDataInvalidException``.
- ``summarizeErrors`` (default true): any invalid element → 400 ``ValidationException`` listing only
  the invalid elements, nothing written. ``summarizeErrors=false`` → 200 with every element, valid
  ones written (``StatusAttributeString: "OK"``), invalid ones echoed with ``ValidationErrors``.
- ``Idempotency-Key`` (≤ 128 characters): a repeated key on the same method and path returns the
  first answer verbatim and writes nothing; keys live in the store so they survive restarts.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from sandbox.context import SystemContext
from sandbox.erp import events as webhook_events
from sandbox.erp import queries
from sandbox.erp.events import Event
from sandbox.erp.render import ApiError, dumps, envelope_of, post_data_invalid, validation_error
from sandbox.store import Doc

Mode = Literal["create", "upsert"]
IDEMPOTENCY_MAX = 128


@dataclass
class Pending:
    """What the current batch will write, so later elements see earlier ones."""

    docs: dict[tuple[str, str], Doc] = field(default_factory=dict)

    def add(self, obj: str, doc: Doc) -> None:
        self.docs[(obj, doc.id)] = doc

    def get(self, ctx: SystemContext, obj: str, record_id: str) -> Doc | None:
        """A record by id: this batch's version first, then the store's (ids match any case)."""
        for candidate in dict.fromkeys((record_id, record_id.lower(), record_id.upper())):
            doc = self.docs.get((obj, candidate)) or ctx.store.get(obj, candidate)
            if doc is not None:
                return doc
        return None

    def by_key(self, ctx: SystemContext, obj: str, key: str) -> list[Doc]:
        """Records whose lookup key is ``key``, as they will be after this batch."""
        found = {doc.id: doc for doc in ctx.store.find_by_key(obj, key)
                 if (obj, doc.id) not in self.docs}
        found.update({d.id: d for (o, _), d in self.docs.items() if o == obj and d.key == key})
        return list(found.values())


@dataclass
class Outcome:
    """One element's result: its answer, its errors, what to write and which events to send."""

    echo: dict[str, Any]
    errors: list[str] = field(default_factory=list)
    writes: list[tuple[str, Doc]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


@dataclass
class Batch:
    """Everything an element handler may use."""

    ctx: SystemContext
    mode: Mode
    now_ms: int
    pending: Pending = field(default_factory=Pending)


Handler = Callable[[Batch, Any, str], Outcome]


def write_lock(ctx: SystemContext) -> threading.RLock:
    """The lock every ERP write (API or mutate) holds, so batches and idempotency are atomic."""
    lock: threading.RLock = ctx.state.setdefault("erp_write_lock", threading.RLock())
    return lock


def parse_bool(value: str | None, name: str, default: bool) -> bool:
    """A boolean query parameter as Xero reads it (``true``/``false``, any case).

    >>> parse_bool(None, "x", True), parse_bool("False", "x", True)
    (True, False)
    """
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered not in {"true", "false"}:
        raise ApiError(400, validation_error(message=f"{name} must be true or false, "
                                                     f"not {value!r}"))
    return lowered == "true"


def parse_elements(raw: bytes, plural: str, batch_max: int) -> list[Any]:
    """The elements of a write body, or a 400 Xero would send for it."""
    try:
        payload = json.loads(raw) if raw.strip() else None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, post_data_invalid(f"JSON request body could not be read, Error: "
                                              f"{exc}")) from exc
    if not isinstance(payload, dict):
        raise ApiError(400, post_data_invalid(
            f"JSON request body could not be read: send an object like "
            f'{{"{plural}": [{{...}}]}}'))
    matches = [k for k in payload if k.lower() == plural.lower()]
    elements = payload[matches[0]] if matches else [payload]
    if not isinstance(elements, list):
        raise ApiError(400, post_data_invalid(f"{plural} must be an array of objects"))
    if not elements:
        raise ApiError(400, validation_error(message=f"No {plural} were provided in the request"))
    if len(elements) > batch_max:
        raise ApiError(400, validation_error(message=(
            f"A maximum of {batch_max} {plural} can be sent in one request; this request has "
            f"{len(elements)}. Split it into smaller batches.")))
    return elements


def run_batch(ctx: SystemContext, *, plural: str, raw: bytes, mode: Mode, summarize: bool,
              handler: Handler, error_flag: str, now_ms: int,
              force: tuple[str, str] | None = None) -> tuple[int, bytes]:
    """Check every element, then write all (or the valid ones) and answer like Xero."""
    elements = parse_elements(raw, plural, ctx.limits.erp_batch_max)
    if force is not None:
        name, value = force
        elements = [{**e, name: value} if isinstance(e, dict) else e for e in elements]
    batch = Batch(ctx, mode, now_ms)
    outcomes: list[Outcome] = []
    for index, element in enumerate(elements):
        outcome = handler(batch, element, f"{plural}[{index}]")
        if not outcome.errors:
            for obj, doc in outcome.writes:
                batch.pending.add(obj, doc)
        outcomes.append(outcome)
    failed = [o for o in outcomes if o.errors]
    if failed and summarize:
        return 400, dumps(validation_error([_error_echo(o, error_flag) for o in failed]))
    _commit(ctx, [o for o in outcomes if not o.errors], now_ms)
    answer = [_error_echo(o, error_flag) if o.errors else {**o.echo, "StatusAttributeString": "OK"}
              for o in outcomes]
    return 200, envelope_of(plural, answer, now_ms)


def _error_echo(outcome: Outcome, error_flag: str) -> dict[str, Any]:
    return {**outcome.echo, error_flag: True, "StatusAttributeString": "ERROR",
            "ValidationErrors": [{"Message": m} for m in outcome.errors]}


def _commit(ctx: SystemContext, outcomes: list[Outcome], now_ms: int) -> None:
    by_obj: dict[str, dict[str, Doc]] = {}
    for outcome in outcomes:
        for obj, doc in outcome.writes:
            by_obj.setdefault(obj, {})[doc.id] = doc
    for obj, docs in by_obj.items():
        ctx.store.put_many(obj, docs.values())
    if by_obj:
        queries.bump_version(ctx)
    webhook_events.emit(ctx, [e for o in outcomes for e in o.events], now_ms)


def idempotent(ctx: SystemContext, *, method: str, path: str, key: str | None,
               compute: Callable[[], tuple[int, bytes]]) -> tuple[int, bytes]:
    """Run a write once per ``Idempotency-Key``; a repeat gets the first answer verbatim."""
    if key is not None and len(key) > IDEMPOTENCY_MAX:
        raise ApiError(400, validation_error(message=(
            f"Idempotency-Key is {len(key)} characters long; the maximum is {IDEMPOTENCY_MAX}")))
    with write_lock(ctx):
        name = f"erp:idempotency:{method} {path}:{key}"
        if key:
            stored = ctx.store.meta_get(name)
            if stored is not None:
                first = json.loads(stored)
                return int(first["status"]), str(first["body"]).encode()
        try:
            status, body = compute()
        except ApiError as exc:
            if exc.headers:
                raise
            status, body = exc.status, dumps(exc.body)
        if key:
            ctx.store.meta_set(name, json.dumps({"status": status, "body": body.decode()}))
        return status, body


# -- reading element fields the way Xero's deserialiser does (a wrong type fails the request) --
def type_error(where: str, name: str, expected: str, value: Any) -> ApiError:
    return ApiError(400, post_data_invalid(
        f"JSON request body could not be read: {where}.{name} must be {expected}, "
        f"not {json.dumps(value)[:60]}"))


def text_field(element: dict[str, Any], name: str, where: str) -> str | None:
    """A string field (absent or null → None)."""
    value = element.get(name)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # Xero's deserialiser turns JSON numbers into text fields
    raise type_error(where, name, "a string", value)


def bool_field(element: dict[str, Any], name: str, where: str) -> bool | None:
    """A boolean field (``true``/``false`` or the strings ``"true"``/``"false"``)."""
    value = element.get(name)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    raise type_error(where, name, "true or false", value)


def number_field(element: dict[str, Any], name: str, where: str) -> float | None:
    """A decimal field (a JSON number or a numeric string)."""
    value = element.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        raise type_error(where, name, "a number", value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise type_error(where, name, "a number", value)


def guid_field(element: dict[str, Any], name: str, where: str) -> str | None:
    """A GUID field, lower-cased (anything but a GUID fails the request)."""
    value = text_field(element, name, where)
    if value is None or value == "":
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise type_error(where, name, "a GUID", value) from exc


def object_field(element: dict[str, Any], name: str, where: str) -> dict[str, Any] | None:
    """A nested object field."""
    value = element.get(name)
    if value is None or isinstance(value, dict):
        return value
    raise type_error(where, name, "an object", value)


def objects_field(element: dict[str, Any], name: str, where: str) -> list[dict[str, Any]] | None:
    """An array-of-objects field."""
    value = element.get(name)
    if value is None:
        return None
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        return value
    raise type_error(where, name, "an array of objects", value)


def require_object(element: Any, where: str) -> dict[str, Any]:
    """The element itself must be a JSON object."""
    if not isinstance(element, dict):
        raise ApiError(400, post_data_invalid(
            f"JSON request body could not be read: {where} must be an object"))
    return element
