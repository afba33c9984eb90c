"""BambooHR employee fields: how a stored employee reads under each API field name, and times.

A stored employee body uses BambooHR's own field names (``firstName``, ``jobTitle``,
``supervisorEId``...) plus two private keys: ``_createdMs`` (when it was inserted, for the
changed feed) and ``_extra`` (any other field a client wrote). ``lastChanged`` comes from the
store's ``updated_ms``. ``supervisorEId`` is the supervisor's employee ID and ``supervisorId``
the supervisor's employee number, as in BambooHR's field list.

>>> body = {"firstName": "Ada", "lastName": "Lovelace", "jobTitle": "Engineer",
...         "supervisorEId": "7", "status": "Active"}
>>> boss = {"firstName": "Grace", "lastName": "Hopper", "employeeNumber": "00007"}
>>> read_field("1", body, 0, "displayName", {"7": boss}.get)
(True, 'Ada Lovelace')
>>> read_field("1", body, 0, "supervisorId", {"7": boss}.get)
(True, '00007')
>>> read_field("1", body, 0, "noSuchField", {}.get)
(False, None)
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Body = dict[str, Any]
Lookup = Callable[[str], "Body | None"]  # employee id -> stored body (for supervisors)


# -- times ------------------------------------------------------------------------------------
def iso_ms(ms: int) -> str:
    """BambooHR's ``lastChanged`` form (UTC, ``+00:00``), with milliseconds only when non-zero.

    >>> iso_ms(1764064800000)
    '2025-11-25T10:00:00+00:00'
    >>> iso_ms(1764064800123)
    '2025-11-25T10:00:00.123+00:00'
    """
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if ms % 1000:
        text += f".{ms % 1000:03d}"
    return text + "+00:00"


def parse_iso_ms(text: str) -> int | None:
    """Epoch milliseconds of an ISO 8601 timestamp (naive = UTC), or None when it is not one.

    >>> parse_iso_ms("2025-11-25T10:00:00Z"), parse_iso_ms("2025-11-25T11:00:00.5+01:00")
    (1764064800000, 1764064800500)
    >>> parse_iso_ms("yesterday") is None
    True
    """
    try:
        moment = datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def utc_date(ms: int) -> str:
    """The UTC calendar date of an epoch-milliseconds time.

    >>> utc_date(1764064800000)
    '2025-11-25'
    """
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d")


def is_date(text: str) -> bool:
    """True for a real ``YYYY-MM-DD`` date.

    >>> is_date("2026-02-28"), is_date("2026-02-30"), is_date("28/02/2026")
    (True, False, False)
    """
    if len(text) != 10:
        return False
    try:
        datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        return False
    return True


# -- derived values ---------------------------------------------------------------------------
def display_name(body: Body) -> str:
    """``Preferred Last`` when a preferred name is set, else ``First Last``.

    >>> display_name({"firstName": "William", "lastName": "Gates", "preferredName": "Bill"})
    'Bill Gates'
    """
    first = body.get("preferredName") or body.get("firstName") or ""
    return f"{first} {body.get('lastName') or ''}".strip()


def option_id(value: str | None) -> str | None:
    """A stable id for a list option (department, division, location, job title).

    >>> option_id("Engineering") == option_id("Engineering"), option_id(None)
    (True, None)
    """
    if not value:
        return None
    return str(zlib.crc32(value.encode()) % 900_000 + 100_000)


def employment_status(body: Body) -> str:
    """BambooHR's employment-history status: ``Terminated`` once a termination date is set.

    >>> employment_status({"terminationDate": "2026-11-25"}), employment_status({})
    ('Terminated', 'Full-Time')
    """
    return "Terminated" if body.get("terminationDate") else "Full-Time"


def _supervisor(body: Body, lookup: Lookup) -> Body | None:
    sup_id = body.get("supervisorEId")
    return lookup(sup_id) if sup_id else None


def _from_supervisor(key: str) -> Callable[[str, Body, int, Lookup], Any]:
    def get(_id: str, body: Body, _ms: int, lookup: Lookup) -> Any:
        sup = _supervisor(body, lookup)
        if sup is None:
            return None
        return display_name(sup) if key == "displayName" else sup.get(key)

    return get


def _plain(key: str) -> Callable[[str, Body, int, Lookup], Any]:
    return lambda _id, body, _ms, _lookup: body.get(key)


def _option(key: str) -> Callable[[str, Body, int, Lookup], Any]:
    return lambda _id, body, _ms, _lookup: option_id(body.get(key))


Getter = Callable[[str, Body, int, Lookup], Any]

# Every field name the emulator computes or stores as a column of its own.
GETTERS: dict[str, Getter] = {
    "id": lambda eid, _b, _ms, _l: eid,
    "employeeId": lambda eid, _b, _ms, _l: eid,
    "employeeNumber": _plain("employeeNumber"),
    "firstName": _plain("firstName"),
    "lastName": _plain("lastName"),
    "preferredName": _plain("preferredName"),
    "middleName": _plain("middleName"),
    "displayName": lambda _e, body, _ms, _l: display_name(body),
    "fullName1": lambda _e, b, _ms, _l: f"{b.get('firstName', '')} {b.get('lastName', '')}",
    "fullName2": lambda _e, b, _ms, _l: f"{b.get('lastName', '')}, {b.get('firstName', '')}",
    "jobTitle": _plain("jobTitle"),
    "jobTitleName": _plain("jobTitle"),
    "jobTitleId": _option("jobTitle"),
    "workEmail": _plain("workEmail"),
    "homeEmail": _plain("homeEmail"),
    "bestEmail": lambda _e, b, _ms, _l: b.get("workEmail") or b.get("homeEmail"),
    "department": _plain("department"),
    "departmentName": _plain("department"),
    "departmentId": _option("department"),
    "division": _plain("division"),
    "divisionName": _plain("division"),
    "divisionId": _option("division"),
    "location": _plain("location"),
    "locationName": _plain("location"),
    "locationId": _option("location"),
    "status": _plain("status"),
    "employmentHistoryStatus": lambda _e, b, _ms, _l: employment_status(b),
    "employmentStatus": lambda _e, b, _ms, _l: employment_status(b),
    "employmentStatusName": lambda _e, b, _ms, _l: employment_status(b),
    "employmentStatusId": lambda _e, b, _ms, _l: option_id(employment_status(b)),
    "hireDate": _plain("hireDate"),
    "originalHireDate": _plain("hireDate"),
    "terminationDate": _plain("terminationDate"),
    "lastChanged": lambda _e, _b, ms, _l: iso_ms(ms),
    "supervisor": _from_supervisor("displayName"),
    "reportsToName": _from_supervisor("displayName"),
    "supervisorEId": _plain("supervisorEId"),
    "reportsToId": _plain("supervisorEId"),
    "supervisorId": _from_supervisor("employeeNumber"),
    "supervisorEmail": _from_supervisor("workEmail"),
    "workPhone": _plain("workPhone"),
    "workPhoneExtension": _plain("workPhoneExtension"),
    "mobilePhone": _plain("mobilePhone"),
    "homePhone": _plain("homePhone"),
    "photoUrl": lambda _e, _b, _ms, _l: None,
    "photoUploaded": lambda _e, _b, _ms, _l: False,
    "isPhotoUploaded": lambda _e, _b, _ms, _l: False,
    "canUploadPhoto": lambda _e, _b, _ms, _l: False,
}

# Real BambooHR fields the emulator does not model: they read as null until a client writes them.
UNMODELLED: frozenset[str] = frozenset({
    "address1", "address2", "city", "state", "stateCode", "zipcode", "country", "birthDate",
    "dateOfBirth", "gender", "marital", "maritalStatus", "payRate", "payType", "payPeriod",
    "payPer", "exempt", "skypeUsername", "linkedinUrl", "facebookUrl", "instagramUrl",
    "twitterUrl", "pinterestUrl", "ethnicity", "eeo", "flsaCode", "nationality",
})


def read_field(employee_id: str, body: Body, updated_ms: int, name: str,
               lookup: Lookup) -> tuple[bool, Any]:
    """``(known, value)`` of one field; unknown names give ``(False, None)`` (callers omit them)."""
    getter = GETTERS.get(name)
    if getter is not None:
        return True, getter(employee_id, body, updated_ms, lookup)
    extra: Body = body.get("_extra") or {}
    if name in extra:
        return True, extra[name]
    if name in UNMODELLED:
        return True, None
    return False, None


def nulls_first(name: str) -> Callable[[Body], tuple[bool, tuple[int, int | str]]]:
    """A sort key on one field: nulls first, then whole numbers by value, then text (any case).

    >>> sorted([{"a": "b"}, {"a": None}, {"a": "A"}, {"a": "10"}, {"a": "9"}],
    ...        key=nulls_first("a"))
    [{'a': None}, {'a': '9'}, {'a': '10'}, {'a': 'A'}, {'a': 'b'}]
    """

    def key(row: Body) -> tuple[bool, tuple[int, int | str]]:
        value = row.get(name)
        text = "" if value is None else str(value)
        return value is not None, (0, int(text)) if text.isdigit() else (1, text.lower())

    return key


def as_text(value: Any) -> str | None:
    """A value as BambooHR's reports print it: strings or null.

    >>> as_text(None), as_text(True), as_text(3), as_text("x")
    (None, 'true', '3', 'x')
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)
