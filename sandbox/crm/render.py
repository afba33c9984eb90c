"""Pure helpers that turn stored values into HubSpot's wire forms and back.

>>> iso(1572406217883)
'2019-10-30T03:30:17.883Z'
>>> parse_time("2019-10-30T03:30:17.883Z"), parse_time("1572406217883"), parse_time("2019-10-30")
(1572406217883, 1572406217883, 1572393600000)
>>> money(123450), money(150000), money(5)
('1234.5', '1500', '0.05')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sandbox.crm.objects import ObjectType, PropertyDef

COUNTRY_NAMES: dict[str, str] = {
    "US": "United States", "GB": "United Kingdom", "DE": "Germany", "FR": "France",
    "NL": "Netherlands", "ES": "Spain", "IT": "Italy", "IE": "Ireland", "CA": "Canada",
    "AU": "Australia", "NZ": "New Zealand", "SE": "Sweden", "DK": "Denmark", "NO": "Norway",
    "FI": "Finland", "BE": "Belgium", "AT": "Austria", "CH": "Switzerland", "PT": "Portugal",
    "PL": "Poland", "JP": "Japan", "SG": "Singapore", "IN": "India", "BR": "Brazil",
    "MX": "Mexico", "ZA": "South Africa",
}


_DAYS: dict[int, str] = {}
_EPOCH = date(1970, 1, 1)


def iso(ms: int) -> str:
    """Epoch milliseconds as HubSpot's ISO 8601 form with milliseconds and ``Z``.

    Dates are cached per day: seeding renders millions of timestamps.
    """
    day, rest = divmod(ms, 86_400_000)
    prefix = _DAYS.get(day)
    if prefix is None:
        prefix = _DAYS[day] = (_EPOCH + timedelta(days=day)).isoformat()
    seconds, millis = divmod(rest, 1000)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    return f"{prefix}T{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}Z"


def parse_time(value: str) -> int:
    """Epoch milliseconds from a HubSpot time value: ms digits, ISO date-time or ISO date.

    Raises ValueError for anything else.
    """
    text = value.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    if len(text) == 10:
        parsed = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    else:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


def money(cents: int) -> str:
    """Integer cents as HubSpot's number string (no trailing zeros)."""
    return format((Decimal(cents) / 100).normalize(), "f")


def number(value: str) -> str:
    """A number string in canonical form (``"10.50"`` → ``"10.5"``); ValueError if not numeric.

    >>> number("10.50"), number("3"), number("1e3")
    ('10.5', '3', '1000')
    """
    parsed = Decimal(value.strip())
    if not parsed.is_finite():
        raise ValueError(value)
    return format(parsed.normalize(), "f")


def country_name(code: str) -> str:
    """The country as a person types it into HubSpot (the name when known, else the code)."""
    return COUNTRY_NAMES.get(code.upper(), code)


def select_properties(obj: ObjectType, requested: Iterable[str] | None,
                      known: Mapping[str, PropertyDef]) -> tuple[str, ...]:
    """Which properties a response carries: the defaults, or the known requested ones plus the
    system properties HubSpot always adds (unknown names are ignored, as HubSpot does).

    >>> from sandbox.crm.objects import CONTACTS
    >>> select_properties(CONTACTS, ["phone", "nope"], CONTACTS.builtin())
    ('phone', 'hs_object_id', 'createdate', 'lastmodifieddate')
    """
    names = [n for n in (requested or ()) if n]
    if not names:
        return obj.default_properties
    chosen = [n for n in dict.fromkeys(names) if n in known]
    for system in ("hs_object_id", "createdate", obj.modified_property):
        if system not in chosen:
            chosen.append(system)
    return tuple(chosen)


def public_record(body: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """A stored record as HubSpot's ``SimplePublicObject`` with only ``names`` as properties."""
    stored = body["properties"]
    record: dict[str, Any] = {
        "id": body["id"],
        "properties": {n: stored.get(n) for n in names},
        "createdAt": body["createdAt"],
        "updatedAt": body["updatedAt"],
        "archived": body["archived"],
    }
    if body.get("archivedAt"):
        record["archivedAt"] = body["archivedAt"]
    return record


def stored_record(record_id: str, properties: dict[str, str], created_ms: int, updated_ms: int,
                  obj: ObjectType, archived_ms: int | None = None) -> dict[str, Any]:
    """The body the store keeps: every non-empty property plus the system properties.

    >>> from sandbox.crm.objects import DEALS
    >>> b = stored_record("7", {"dealname": "X"}, 0, 1000, DEALS)
    >>> b["properties"]["hs_object_id"], b["properties"]["hs_lastmodifieddate"], b["archived"]
    ('7', '1970-01-01T00:00:01.000Z', False)
    """
    props = {k: v for k, v in properties.items() if v is not None and v != ""}
    created, updated = iso(created_ms), iso(updated_ms)
    props["hs_object_id"] = record_id
    props["createdate"] = created
    props[obj.modified_property] = updated
    body: dict[str, Any] = {
        "id": record_id, "properties": props, "createdAt": created, "updatedAt": updated,
        "archived": archived_ms is not None,
    }
    if archived_ms is not None:
        body["archivedAt"] = updated if archived_ms == updated_ms else iso(archived_ms)
    return body
