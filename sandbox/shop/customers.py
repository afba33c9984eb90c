"""Customer writes (``PUT customers/{id}.json``, ``POST customers.json``): parse, validate, apply
to the stored (compact) customer.

Validation mirrors Shopify's answers: 400 when the body is not JSON or has no ``customer``
object, 422 ``{"errors": {"field": ["is invalid"]}}`` for bad values or wrong types. Uniqueness
of emails needs the store and is checked by the handler. Nothing here touches the store.

>>> changes = validate_customer({"email": "Ann@Example.com", "phone": "+1 212 555 0199"})
>>> changes["email"], changes["phone"]
('Ann@Example.com', '+12125550199')
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import phonenumbers

from sandbox.shop.errors import missing_root, unprocessable
from sandbox.shop.render import country_name, iso, money

Json = dict[str, Any]

EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[A-Za-z]{2,}$")
_TEXT = ("first_name", "last_name", "note", "tags", "multipass_identifier")
_FLAGS = ("accepts_marketing", "tax_exempt", "verified_email")
_OPT_IN_LEVELS = (None, "single_opt_in", "confirmed_opt_in", "unknown")
_ADDRESS_TEXT = ("address1", "address2", "city", "company", "country", "country_code",
                 "province", "province_code", "zip", "phone", "first_name", "last_name")
_CODES_BY_NAME = {country_name(c).lower(): c for c in (
    "US", "CA", "GB", "IE", "DE", "FR", "NL", "BE", "ES", "IT", "PT", "AT", "CH", "SE", "NO",
    "DK", "FI", "PL", "AU", "NZ", "JP", "MX", "BR", "IN", "ZA", "SG")}


def parse_root(raw: bytes, root: str = "customer") -> Json:
    """The ``{"customer": {...}}`` object of a write body; 400 when missing or not JSON.

    >>> parse_root(b'{"customer": {"email": null}}')
    {'email': None}
    """
    try:
        payload = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        raise missing_root(root) from None
    if not isinstance(payload, dict) or not isinstance(payload.get(root), dict):
        raise missing_root(root)
    return payload[root]


def normalise_phone(raw: str, region: str = "US") -> str | None:
    """A phone number in E.164, or None when it cannot be a real number.

    >>> normalise_phone("(212) 555-0199"), normalise_phone("12")
    ('+12125550199', None)
    """
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _address(raw: Any, index: int, errors: dict[str, list[str]]) -> Json | None:
    if not isinstance(raw, dict):
        errors.setdefault("addresses", []).append(f"entry {index} is invalid")
        return None
    out: Json = {}
    for name in _ADDRESS_TEXT:
        if name in raw:
            value = raw[name]
            if value is not None and not isinstance(value, str):
                errors.setdefault(f"addresses.{name}", []).append("is invalid")
            out[name] = value or None
    if "id" in raw:
        if not isinstance(raw["id"], int) or isinstance(raw["id"], bool):
            errors.setdefault("addresses.id", []).append("is invalid")
        out["id"] = raw["id"]
    if "default" in raw:
        if not isinstance(raw["default"], bool):
            errors.setdefault("addresses.default", []).append("is invalid")
        out["default"] = raw["default"]
    return out


def validate_customer(fields: Json, *, region: str = "US") -> Json:
    """The writable changes in a ``customer`` object, normalised; raises 422 on bad values.

    Read-only fields (``id``, ``orders_count``, ``created_at``...) and unknown ones are ignored,
    as Shopify does.
    """
    errors: dict[str, list[str]] = {}
    changes: Json = {}
    for name in _TEXT:
        if name in fields:
            value = fields[name]
            if isinstance(value, list) and name == "tags":
                value = ", ".join(str(v) for v in value)
            if value is not None and not isinstance(value, str):
                errors.setdefault(name, []).append("is invalid")
            changes[name] = value
    for name in _FLAGS:
        if name in fields:
            if not isinstance(fields[name], bool):
                errors.setdefault(name, []).append("is invalid")
            changes[name] = fields[name]
    if "email" in fields:
        email = fields["email"]
        if email in (None, ""):
            changes["email"] = None
        elif not isinstance(email, str) or not EMAIL.match(email.strip()):
            errors.setdefault("email", []).append("is invalid")
        else:
            changes["email"] = email.strip()
    if "phone" in fields:
        phone = fields["phone"]
        if phone in (None, ""):
            changes["phone"] = None
        elif not isinstance(phone, str) or normalise_phone(phone, region) is None:
            errors.setdefault("phone", []).append("is invalid")
        else:
            changes["phone"] = normalise_phone(phone, region)
    if "accepts_marketing_updated_at" in fields:
        value = fields["accepts_marketing_updated_at"]
        try:
            datetime.fromisoformat(str(value))
            changes["accepts_marketing_updated_at"] = value
        except ValueError:
            errors.setdefault("accepts_marketing_updated_at", []).append("is invalid")
    if "marketing_opt_in_level" in fields:
        if fields["marketing_opt_in_level"] not in _OPT_IN_LEVELS:
            errors.setdefault("marketing_opt_in_level", []).append("is invalid")
        changes["marketing_opt_in_level"] = fields["marketing_opt_in_level"]
    if "addresses" in fields:
        if not isinstance(fields["addresses"], list):
            errors.setdefault("addresses", []).append("is invalid")
        else:
            changes["addresses"] = [_address(a, i, errors)
                                    for i, a in enumerate(fields["addresses"])]
    if errors:
        raise unprocessable(errors)
    return changes


def _country_code(address: Json) -> Json:
    """Keep a ``country_code``: from the code, or from ``country`` given as a code or a name."""
    code = address.pop("country_code", None) or None
    country = address.pop("country", None)
    if not code and country:
        code = country if len(country) == 2 else _CODES_BY_NAME.get(country.lower())
        if code is None:
            address["country"] = country  # a country we cannot code: keep its name
    address["country_code"] = code.upper() if code else None
    return address


def _merge_addresses(current: list[Json], given: list[Json], customer: Json,
                     new_id: Callable[[], int]) -> list[Json]:
    """Update addresses by id, add the ones without; the first default stays the default."""
    by_id = {a["id"]: dict(a) for a in current}
    order = [a["id"] for a in current]
    for entry in given:
        address = by_id.get(entry.get("id")) if entry.get("id") is not None else None
        if address is None:
            address = {"id": new_id(), "first_name": customer.get("first_name"),
                       "last_name": customer.get("last_name"), "default": False}
            by_id[address["id"]] = address
            order.append(address["id"])
        changes = {k: v for k, v in entry.items() if k not in ("id", "default")}
        if "country" in changes or "country_code" in changes:
            address.pop("country", None)
            address.pop("country_code", None)
            address.update(_country_code(changes))
        else:
            address.update(changes)
        if entry.get("default"):
            for other in by_id.values():
                other["default"] = False
            address["default"] = True
    addresses = [by_id[i] for i in order]
    if addresses and not any(a.get("default") for a in addresses):
        addresses[0]["default"] = True
    return addresses


def apply_changes(body: Json, changes: Json, *, now_ms: int, offset: int,
                  new_id: Callable[[], int]) -> Json:
    """The stored customer after ``changes``; ``updated_at`` moves only when something changed.

    Returns ``body`` itself (the same object) when nothing changed.
    """
    after = {**body}
    for name, value in changes.items():
        if name == "addresses":
            after["addresses"] = _merge_addresses(body.get("addresses") or [], value, after,
                                                  new_id)
        else:
            after[name] = value
    if after.get("accepts_marketing") != body.get("accepts_marketing"):
        if "accepts_marketing_updated_at" not in changes:
            after["accepts_marketing_updated_at"] = iso(now_ms, offset)
        if "marketing_opt_in_level" not in changes:
            after["marketing_opt_in_level"] = (
                "single_opt_in" if after.get("accepts_marketing") else None)
    if after == body:
        return body
    after["updated_at"] = iso(now_ms, offset)
    return after


def new_customer(customer_id: int, changes: Json, *, now_ms: int, offset: int, currency: str,
                 new_id: Callable[[], int]) -> Json:
    """A customer created by ``POST customers.json``; 422 without an email, phone or name."""
    if not any(changes.get(k) for k in ("email", "phone", "first_name", "last_name")):
        raise unprocessable({"customer": ["A name, phone number, or email address must be "
                                          "present"]})
    now = iso(now_ms, offset)
    body: Json = {
        "id": customer_id, "email": None, "accepts_marketing": False, "created_at": now,
        "updated_at": now, "first_name": None, "last_name": None, "orders_count": 0,
        "state": "disabled", "total_spent": money(0), "last_order_id": None, "note": None,
        "verified_email": False, "phone": None, "tags": "", "last_order_name": None,
        "currency": currency, "accepts_marketing_updated_at": now,
        "marketing_opt_in_level": None, "addresses": [],
    }
    created = apply_changes(body, changes, now_ms=now_ms, offset=offset, new_id=new_id)
    created["updated_at"] = now
    if created.get("email") and "verified_email" not in changes:
        created["verified_email"] = True
    return created
