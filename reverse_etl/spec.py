"""Sync specs: one YAML file per sync under ``reverse_etl/syncs/``, validated once, typed inside.

A spec names the source model and its key, the destination system and object, the field
mappings (destination field ← model column), the mode, the conflict policy, the guards and the
pace. Every problem is reported as ``<file>:<line>: <what> (fix: <how>)``.

>>> spec = parse_spec('''
... name: demo
... source: {model: sync_crm__contacts}
... destination: {system: crm, object: contacts, match: email}
... fields: {email: email, firstname: firstname}
... ''', Path("demo.yml"))
>>> spec.batch_size(), spec.source.key, spec.removed_policy()
(100, 'sync_key', 'ignore')
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from goldloop.errors import ConfigError

SYNCS_DIR = Path(__file__).resolve().parent / "syncs"

System = Literal["crm", "erp", "shop"]
Mode = Literal["upsert", "update", "insert", "mirror"]
ConflictPolicy = Literal["warehouse_wins", "destination_wins", "flag"]
RemovedPolicy = Literal["ignore", "archive", "flag"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

# What each destination can write, its largest batch, and its published pace
# (requests per second, burst): ../shared/specs/README.md.
OBJECTS: dict[str, tuple[str, ...]] = {
    "crm": ("contacts",), "erp": ("contacts", "invoices"), "shop": ("customers",),
}
BATCH_MAX: dict[str, int] = {"crm": 100, "erp": 50, "shop": 1}
DEFAULT_PACE: dict[str, tuple[float, int]] = {
    "crm": (19.0, 190),  # HubSpot Pro: 190 requests per rolling 10 s
    "erp": (1.0, 60),  # Xero: 60 calls per minute per tenant
    "shop": (2.0, 40),  # Shopify: bucket of 40 leaking 2 per second, per shop
}
DEFAULT_CONCURRENCY: dict[str, int] = {"crm": 4, "erp": 2, "shop": 2}
WORKWEEK: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class RejectRule(_Strict):
    """A row the sync refuses to send: an SQL condition on the model's columns and the reason."""

    when: str
    reason: str


class FlagRule(_Strict):
    """Records a person must look at: SQL returning ``(key, detail)`` rows, flagged as conflicts
    (never written, never deleted)."""

    name: str = Field(pattern=_NAME.pattern)
    sql: str


class Source(_Strict):
    """The model a sync reads and the columns with a special meaning."""

    model: str = Field(pattern=_IDENTIFIER.pattern)
    schema_name: str = Field("marts", alias="schema", pattern=_IDENTIFIER.pattern)
    key: str = Field("sync_key", pattern=_IDENTIFIER.pattern)
    destination_id: str | None = Field(None, pattern=_IDENTIFIER.pattern)
    destination_updated_at: str | None = Field(None, pattern=_IDENTIFIER.pattern)
    shop: str | None = Field(None, pattern=_IDENTIFIER.pattern)
    reject_reason: str | None = Field(None, pattern=_IDENTIFIER.pattern)
    business_date: str | None = Field(None, pattern=_IDENTIFIER.pattern)
    reject_when: list[RejectRule] = Field(default_factory=list)

    def relation(self) -> str:
        """The quoted ``schema.model`` relation.

        >>> Source(model="m").relation()
        '"marts"."m"'
        """
        return f'"{self.schema_name}"."{self.model}"'


class Destination(_Strict):
    """Where the rows go: system, object and the natural key that finds a record."""

    system: System
    object: str
    match: str = Field(description="destination field identifying a record without an id")


class Check(_Strict):
    """A data-quality check: SQL counting failing rows; a blocking failure stops the run."""

    name: str
    sql: str
    blocking: bool = True


class Guards(_Strict):
    """What stops a run before it writes anything."""

    max_changed_percent: float = Field(25.0, gt=0, le=100)
    blocking_checks: bool = True
    checks: list[Check] = Field(default_factory=list)


class Pace(_Strict):
    """Batching and pacing; unset values come from the destination's published limits."""

    batch_size: int | None = Field(None, ge=1)
    requests_per_second: float | None = Field(None, ge=0)
    burst: int | None = Field(None, ge=1)
    concurrency: int | None = Field(None, ge=1, le=16)


class Retry(_Strict):
    """Retries of transient failures and the dead-letter threshold for rejections."""

    max_attempts: int = Field(3, ge=1)
    max_retries: int = Field(6, ge=0)
    backoff_seconds: float = Field(0.5, ge=0)
    max_backoff_seconds: float = Field(60.0, ge=0)
    timeout_seconds: float = Field(30.0, gt=0)


class Calendar(_Strict):
    """Business days: rows whose business date is not one wait for the next one that is."""

    business_days: list[Weekday] = Field(default_factory=lambda: list(WORKWEEK), min_length=1)
    holidays: list[date] = Field(default_factory=list)


class SyncSpec(_Strict):
    """One sync, as written in ``reverse_etl/syncs/<name>.yml``."""

    name: str = Field(pattern=_NAME.pattern)
    description: str = ""
    source: Source
    destination: Destination
    mode: Mode = "upsert"
    conflict: ConflictPolicy = "warehouse_wins"
    removed: RemovedPolicy | None = None
    fields: dict[str, str] = Field(min_length=1)
    constants: dict[str, str | int | float | bool] = Field(default_factory=dict)
    nulls: Literal["skip", "clear"] = "skip"
    pii: list[str] = Field(default_factory=list)
    flags: list[FlagRule] = Field(default_factory=list)
    guards: Guards = Field(default_factory=Guards)
    pace: Pace = Field(default_factory=Pace)
    retry: Retry = Field(default_factory=Retry)
    calendar: Calendar | None = None
    path: Path | None = Field(None, exclude=True)

    def batch_size(self) -> int:
        """Records per request (the spec's, else the destination's maximum)."""
        return self.pace.batch_size or BATCH_MAX[self.destination.system]

    def pace_of(self) -> tuple[float, int]:
        """(requests per second, burst); 0 requests per second means unlimited."""
        rps, burst = DEFAULT_PACE[self.destination.system]
        if self.pace.requests_per_second is not None:
            rps = self.pace.requests_per_second
            burst = self.pace.burst or max(1, round(rps * DEFAULT_PACE[
                self.destination.system][1] / DEFAULT_PACE[self.destination.system][0]))
        elif self.pace.burst is not None:
            burst = self.pace.burst
        return rps, burst

    def with_pace(self, requests_per_second: float | None, burst: int | None = None,
                  ) -> SyncSpec:
        """This spec at another pace (``requests_per_second=0``: unlimited); None keeps it."""
        if requests_per_second is None:
            return self
        pace = self.pace.model_copy(update={"requests_per_second": requests_per_second,
                                            "burst": burst or self.pace.burst})
        return self.model_copy(update={"pace": pace})

    def concurrency(self) -> int:
        return self.pace.concurrency or DEFAULT_CONCURRENCY[self.destination.system]

    def removed_policy(self) -> RemovedPolicy:
        """What happens to a record that left the model: archive in mirror mode, else ignore."""
        if self.removed is not None:
            return self.removed
        return "archive" if self.mode == "mirror" else "ignore"

    def columns(self) -> list[str]:
        """The model columns the plan reads: key, special columns, then mapped columns."""
        src = self.source
        special = [src.destination_id, src.destination_updated_at, src.shop, src.reject_reason,
                   src.business_date]
        mapped = list(self.fields.values())
        return list(dict.fromkeys([c for c in special if c] + mapped))

    def payload_names(self) -> list[str]:
        """Destination field names of the payload: mapped fields, then constants."""
        return [*self.fields, *(n for n in self.constants if n not in self.fields)]

    def where(self) -> str:
        return str(self.path) if self.path else f"sync {self.name!r}"


# -- loading ---------------------------------------------------------------------------------
def _node_lines(node: yaml.Node, path: tuple[Any, ...], out: dict[tuple[Any, ...], int]) -> None:
    """Map every key path of a composed YAML document to its 1-based line."""
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            out[(*path, key)] = key_node.start_mark.line + 1
            _node_lines(value_node, (*path, key), out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _node_lines(item, (*path, index), out)


def _line_of(lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int:
    """The line of the deepest known prefix of ``loc`` (a missing key: its parent's line)."""
    for end in range(len(loc), -1, -1):
        found = lines.get(tuple(loc[:end]))
        if found is not None:
            return found
    return 1


_FIELD_HINTS = {
    "mode": "use upsert, update, insert or mirror",
    "conflict": "use warehouse_wins, destination_wins or flag",
    "removed": "use ignore, archive or flag",
    "system": "use crm, erp or shop",
    "nulls": "use skip (leave the destination's value) or clear",
}


def _hint(error: Any, loc: tuple[Any, ...]) -> str:
    """How to fix one pydantic error, in words a sync author understands."""
    kind = error["type"]
    last = str(loc[-1]) if loc else ""
    if kind == "missing":
        return f"add `{last}:`" + (" (e.g. `model: sync_crm__contacts`)" if last == "model"
                                   else "")
    if kind == "extra_forbidden":
        return f"remove `{last}` or check its spelling"
    if kind in ("literal_error", "enum"):
        return _FIELD_HINTS.get(last, f"use one of: {error.get('ctx', {}).get('expected', '')}")
    if kind == "string_pattern_mismatch":
        return "use a plain SQL identifier (letters, digits, _; names: lower case)"
    return "correct the value"


def _fail(path: Path, line: int, where: str, message: str, hint: str) -> ConfigError:
    return ConfigError(f"{path}:{line}: {where}: {message}" if where else
                       f"{path}:{line}: {message}", hint=hint)


def parse_spec(text: str, path: Path) -> SyncSpec:
    """Validate one spec's YAML text; every error names ``path``, the line and the fix."""
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        context = getattr(exc, "context_mark", None)
        started = (f" ({getattr(exc, 'context', '')} started on line {context.line + 1})"
                   if context is not None and context.line + 1 != line else "")
        raise _fail(path, line, "", f"not valid YAML: {getattr(exc, 'problem', exc)}{started}",
                    "fix the indentation, quoting or brackets there") from exc
    if not isinstance(data, dict) or root is None:
        raise _fail(path, 1, "", "a sync spec must be a YAML mapping",
                    "start with `name:`, `source:`, `destination:` and `fields:`")
    lines: dict[tuple[Any, ...], int] = {}
    _node_lines(root, (), lines)
    try:
        spec = SyncSpec.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(error["loc"])
        loc = tuple("schema" if part == "schema_name" else part for part in loc)
        where = ".".join(str(part) for part in loc)
        raise _fail(path, _line_of(lines, loc), where, error["msg"], _hint(error, loc)) from None
    spec = spec.model_copy(update={"path": path})
    _check_semantics(spec, lines, path)
    return spec


def _check_semantics(spec: SyncSpec, lines: dict[tuple[Any, ...], int], path: Path) -> None:
    """Rules across fields that pydantic's types cannot say."""
    def fail(loc: tuple[Any, ...], message: str, hint: str) -> ConfigError:
        return _fail(path, _line_of(lines, loc), ".".join(map(str, loc)), message, hint)

    if path.suffix in (".yml", ".yaml") and path.stem != spec.name:
        raise fail(("name",), f"name {spec.name!r} differs from the file name {path.stem!r}",
                   f"rename the file to {spec.name}.yml or set `name: {path.stem}`")
    system, obj = spec.destination.system, spec.destination.object
    if obj not in OBJECTS[system]:
        raise fail(("destination", "object"), f"{system} has no writable object {obj!r}",
                   f"use one of: {', '.join(OBJECTS[system])}")
    if spec.destination.match not in spec.fields:
        raise fail(("destination", "match"),
                   f"match field {spec.destination.match!r} is not a mapped field",
                   f"map it under `fields:` (e.g. `{spec.destination.match}: <model column>`)")
    for name in spec.constants:
        if name in spec.fields:
            raise fail(("constants", name), f"{name!r} is both a mapped field and a constant",
                       "keep it in one of `fields:` or `constants:`")
    for column in spec.fields.values():
        if not _IDENTIFIER.match(column):
            raise fail(("fields",), f"model column {column!r} is not a plain identifier",
                       "map each destination field to one column of the model")
    size = spec.pace.batch_size
    if size is not None and size > BATCH_MAX[system]:
        raise fail(("pace", "batch_size"),
                   f"batch_size {size} exceeds {system}'s limit of {BATCH_MAX[system]}",
                   f"use at most {BATCH_MAX[system]}")
    for index, name in enumerate(spec.pii):
        if name not in spec.fields:
            raise fail(("pii", index), f"pii field {name!r} is not a mapped field",
                       "list destination field names from `fields:`")
    if spec.mode == "mirror" and system == "shop":
        raise fail(("mode",), "shop syncs cannot mirror: goldloop never deletes shop customers",
                   "use mode: upsert")
    if spec.mode == "mirror" and obj == "invoices":
        raise fail(("mode",), "invoices are insert-only", "use mode: insert")
    if spec.removed == "archive" and (system == "shop" or obj == "invoices"):
        raise fail(("removed",), f"{system} {obj} cannot be archived by a sync",
                   "use removed: ignore or flag")
    if system == "shop" and not spec.source.shop:
        raise fail(("source",), "a shop sync needs the column naming each row's shop",
                   "add `shop: <column>` under `source:`")
    if spec.mode == "update" and not spec.source.destination_id:
        raise fail(("mode",), "update mode needs the destination id column",
                   "add `destination_id: <column>` under `source:` or use mode: upsert")
    if spec.source.business_date and spec.calendar is None:
        raise fail(("source", "business_date"), "business_date needs a calendar",
                   "add `calendar: {business_days: [mon, tue, wed, thu, fri]}`")


def load_spec(path: Path) -> SyncSpec:
    """Read and validate one spec file."""
    if not path.exists():
        raise ConfigError(f"no sync spec at {path}", hint="run `goldloop sync list`")
    return parse_spec(path.read_text(), path)


def spec_paths(directory: Path = SYNCS_DIR) -> list[Path]:
    """The spec files of ``directory``, sorted by name."""
    return sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")])


def load_all(directory: Path = SYNCS_DIR) -> list[SyncSpec]:
    """Every sync spec of ``directory`` (the first invalid one raises)."""
    return [load_spec(path) for path in spec_paths(directory)]


def find_spec(name: str, directory: Path = SYNCS_DIR) -> SyncSpec:
    """The sync called ``name``; an unknown name lists the known ones."""
    for path in spec_paths(directory):
        if path.stem == name:
            return load_spec(path)
    known = ", ".join(p.stem for p in spec_paths(directory)) or "none"
    raise ConfigError(f"unknown sync {name!r} (known: {known})",
                      hint=f"add {directory / (name + '.yml')} or pick a listed sync")
