"""``POST /crm/v3/objects/{objectType}/search``: filter groups and sorts compiled to SQL.

Filters on the last-modified property use the indexed ``updated_ms`` column, ``hs_object_id`` the
id, the object's key property (contact ``email``) the indexed ``key`` column; any other property
is read from the stored JSON (correct, but a full scan on a big store). Groups are ORed, the
filters of one group ANDed. Results are paged by offset and capped at 10,000, like HubSpot.

>>> from sandbox.crm.objects import CONTACTS
>>> where, params = compile_filters(CONTACTS, CONTACTS.builtin(), [[
...     ("lastmodifieddate", "GTE", "1000", None, None)]])
>>> where, params
('archived = 0 AND ((updated_ms >= ?))', [1000])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field

from sandbox.crm.errors import validation_error
from sandbox.crm.objects import ObjectType, PropertyDef
from sandbox.crm.render import iso, number, parse_time

MAX_RESULTS = 10_000
MAX_LIMIT = 200
MAX_GROUPS = 6
MAX_FILTERS_PER_GROUP = 6
MAX_FILTERS = 18
TEXT_SEARCH = ("email", "firstname", "lastname", "phone", "company", "name", "domain",
               "dealname", "hs_sku")

Scalar = str | int | float | bool


class Filter(BaseModel):
    propertyName: str
    operator: str
    value: Scalar | None = None
    highValue: Scalar | None = None
    values: list[Scalar] | None = None


class FilterGroup(BaseModel):
    filters: list[Filter] = Field(default_factory=list)


class Sort(BaseModel):
    propertyName: str
    direction: str = "ASCENDING"


class SearchRequest(BaseModel):
    """The search body (every field optional here; the spec marks them required)."""

    after: str | int | None = None
    filterGroups: list[FilterGroup] = Field(default_factory=list)
    limit: int = 10
    properties: list[str] = Field(default_factory=list)
    sorts: list[Sort | str] = Field(default_factory=list)
    query: str | None = None


FilterSpec = tuple[str, str, Any, Any, Sequence[Any] | None]  # name, op, value, high, values


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _column(obj: ObjectType, prop: PropertyDef) -> tuple[str, str]:
    """The SQL expression for a property and how its values compare (ms, int, num, iso, text)."""
    if prop.name == obj.modified_property:
        return "updated_ms", "ms"
    if prop.name == "hs_object_id":
        return "CAST(id AS INTEGER)", "int"
    if prop.name == obj.key_property:
        return "key", "text"
    expr = f"json_extract(body, '$.properties.{prop.name}')"
    if prop.type == "number":
        return f"CAST({expr} AS REAL)", "num"
    if prop.type in ("datetime", "date"):
        return expr, "iso"
    return f"lower({expr})", "text"


def _convert(kind: str, value: Any, name: str) -> Any:
    text = _text(value)
    try:
        if kind == "ms":
            return parse_time(text)
        if kind == "int":
            return int(text)
        if kind == "num":
            return float(number(text))
        if kind == "iso":
            return iso(parse_time(text))
    except (ValueError, ArithmeticError):
        raise validation_error(
            f"{text!r} is not a valid value for property {name!r} in a search filter") from None
    return text.lower()


def _condition(obj: ObjectType, known: Mapping[str, PropertyDef], spec: FilterSpec,
               params: list[Any]) -> str:
    name, op, value, high, values = spec
    prop = known.get(name)
    if prop is None:
        raise validation_error(f"Property {name!r} does not exist on {obj.name}: "
                               "filter on a property of this object type.")
    expr, kind = _column(obj, prop)
    if op in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
        return f"{expr} IS {'NOT ' if op == 'HAS_PROPERTY' else ''}NULL"
    if op in ("IN", "NOT_IN"):
        if not values:
            raise validation_error(f"Operator {op} on {name!r} needs a non-empty 'values' list.")
        params += [_convert(kind, v, name) for v in values]
        marks = ",".join("?" * len(values))
        if op == "IN":
            return f"{expr} IN ({marks})"
        return f"({expr} NOT IN ({marks}) OR {expr} IS NULL)"
    if value is None:
        raise validation_error(f"Operator {op} on {name!r} needs a 'value'.")
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        pattern = _text(value).lower().replace("%", "").replace("*", "%")
        params.append(pattern if "%" in pattern else f"%{pattern}%")
        like = f"lower(CAST({expr} AS TEXT)) LIKE ?"
        return like if op == "CONTAINS_TOKEN" else f"({expr} IS NULL OR NOT {like})"
    converted = _convert(kind, value, name)
    if op == "BETWEEN":
        if high is None:
            raise validation_error(f"Operator BETWEEN on {name!r} needs a 'highValue'.")
        params += [converted, _convert(kind, high, name)]
        return f"{expr} BETWEEN ? AND ?"
    sql_op = {"EQ": "=", "NEQ": "!=", "GT": ">", "GTE": ">=", "LT": "<", "LTE": "<="}.get(op)
    if sql_op is None:
        raise validation_error(f"Unknown filter operator {op!r}.")
    params.append(converted)
    if op == "NEQ":
        return f"({expr} != ? OR {expr} IS NULL)"
    return f"{expr} {sql_op} ?"


def compile_filters(obj: ObjectType, known: Mapping[str, PropertyDef],
                    groups: Sequence[Sequence[FilterSpec]],
                    query: str | None = None) -> tuple[str, list[Any]]:
    """The SQL ``where`` (live records only) and its parameters."""
    if len(groups) > MAX_GROUPS:
        raise validation_error(f"Too many filterGroups: {len(groups)} (at most {MAX_GROUPS}).")
    if sum(len(g) for g in groups) > MAX_FILTERS or any(
            len(g) > MAX_FILTERS_PER_GROUP for g in groups):
        raise validation_error(f"Too many filters: at most {MAX_FILTERS_PER_GROUP} per group "
                               f"and {MAX_FILTERS} in all.")
    params: list[Any] = []
    where = "archived = 0"
    ors = []
    for group in groups:
        ands = [_condition(obj, known, spec, params) for spec in group]
        if ands:
            ors.append("(" + " AND ".join(ands) + ")")
    if ors:
        where += " AND (" + " OR ".join(ors) + ")"
    if query:
        fields = [n for n in TEXT_SEARCH if n in known]
        likes = [f"lower(json_extract(body, '$.properties.{n}')) LIKE ?" for n in fields]
        where += " AND (" + " OR ".join(likes) + ")"
        params += [f"%{query.lower()}%"] * len(fields)
    return where, params


def compile_sorts(obj: ObjectType, known: Mapping[str, PropertyDef],
                  sorts: Sequence[Sort | str]) -> str:
    """The SQL ``ORDER BY`` of HubSpot sorts (objects, or strings ``prop`` / ``-prop``).

    >>> from sandbox.crm.objects import DEALS
    >>> compile_sorts(DEALS, DEALS.builtin(), [Sort(propertyName="hs_lastmodifieddate")])
    'updated_ms ASC, seq ASC'
    >>> compile_sorts(DEALS, DEALS.builtin(), ["-hs_lastmodifieddate"])
    'updated_ms DESC, seq DESC'
    """
    parts: list[str] = []
    direction = "ASC"
    for sort in sorts:
        if isinstance(sort, str):
            name, descending = sort.lstrip("-"), sort.startswith("-")
        else:
            if sort.direction not in ("ASCENDING", "DESCENDING"):
                raise validation_error(f"Sort direction {sort.direction!r} must be ASCENDING or "
                                       "DESCENDING.")
            name, descending = sort.propertyName, sort.direction == "DESCENDING"
        prop = known.get(name)
        if prop is None:
            raise validation_error(f"Cannot sort by {name!r}: no such property on {obj.name}.")
        direction = "DESC" if descending else "ASC"
        parts.append(f"{_column(obj, prop)[0]} {direction}")
    if not parts:
        return "seq ASC"
    return ", ".join([*parts, f"seq {direction}"])


def window(after: str | int | None, limit: int) -> int:
    """The offset of a search page; 400 beyond HubSpot's limits (200 a page, 10,000 in all)."""
    if not 0 <= limit <= MAX_LIMIT:
        raise validation_error(f"limit={limit} is out of range: a search page holds 0 to "
                               f"{MAX_LIMIT} results.")
    try:
        offset = int(after) if after not in (None, "") else 0  # type: ignore[arg-type]
    except ValueError:
        raise validation_error(f"Invalid paging cursor after={after!r}: pass paging.next.after "
                               "from the previous page.") from None
    if offset < 0:
        raise validation_error(f"Invalid paging cursor after={after!r}: it must be >= 0.")
    if offset + limit > MAX_RESULTS:
        raise validation_error(
            f"Search results are limited to {MAX_RESULTS:,}: after ({offset}) + limit ({limit}) "
            f"is beyond that. Narrow the filter instead (e.g. a new window starting at the "
            "last modified time already read).", sub_category="SEARCH_LIMIT_EXCEEDED")
    return offset
