"""Postal addresses: real-looking ones per country, and the ways systems hold them differently."""

from __future__ import annotations

import random

from sandbox.world.model import Address
from sandbox.world.names import CITIES, COUNTRY_SUFFIXES, STREET_NAMES, STREET_SUFFIXES

_LETTERS = "ABCDEFGHJKLMNPRSTVWXY"
_GB_INWARD = "ABDEFGHJLNPQRSTUWXYZ"
_ABBREVIATIONS = {f" {full}": f" {short}" for full, short in STREET_SUFFIXES.items()}


def _postcode(country: str, seed: str, rng: random.Random) -> str:
    rand = rng.random
    if country == "US":
        return f"{seed}{str(int(rand() * 100)).zfill(2)}"
    if country == "GB":
        inward = f"{int(rand() * 10)}{_GB_INWARD[int(rand() * 20)]}{_GB_INWARD[int(rand() * 20)]}"
        return f"{seed}{1 + int(rand() * 19)} {inward}"
    if country == "CA":
        return (f"{seed}{int(rand() * 10)}{_LETTERS[int(rand() * 21)]} "
                f"{int(rand() * 10)}{_LETTERS[int(rand() * 21)]}{int(rand() * 10)}")
    if country == "AU":
        return f"{seed}{str(int(rand() * 200)).zfill(3)}"
    letters = "".join(_LETTERS[int(rand() * 21)] for _ in range(2))
    district = seed if len(seed) == 3 else f"{seed}{1 + int(rand() * 9)}"
    return f"{district} {letters}{str(int(rand() * 100)).zfill(2)}"


def make_address(country: str, rng: random.Random, line_extra: str = "") -> Address:
    """A street address in ``country`` (street names spelled out in full).

    >>> a = make_address("GB", random.Random(7))
    >>> a.country_code, a.line1.split(" ")[-1] in {"Road", "Street", "Lane", "Close", "Avenue",
    ...     "Crescent", "Terrace"}
    ('GB', True)
    """
    rand = rng.random
    city, region, seed = CITIES[country][int(rand() * len(CITIES[country]))]
    suffixes = COUNTRY_SUFFIXES[country]
    number = 1 + int(rand() ** 2 * 480)
    street = STREET_NAMES[int(rand() * len(STREET_NAMES))]
    line1 = f"{number} {street} {suffixes[int(rand() * len(suffixes))]}{line_extra}"
    return Address(line1, city, _postcode(country, seed, rng), country, region)


def abbreviate(line1: str, dot: bool = False) -> str:
    """The street line with its suffix abbreviated the way people type it.

    >>> abbreviate("12 Maple Street"), abbreviate("4 Oak Road, Unit 2", dot=True)
    ('12 Maple St', '4 Oak Rd., Unit 2')
    """
    for full, short in _ABBREVIATIONS.items():
        at = line1.find(full)
        if at >= 0 and (at + len(full) == len(line1) or line1[at + len(full)] == ","):
            return f"{line1[:at]}{short}{'.' if dot else ''}{line1[at + len(full):]}"
    return line1


def address_surface(address: Address, rng: random.Random, missing: float) -> Address | None:
    """The address as one system holds it: missing, the same, or written differently.

    Returns the very same object when unchanged (callers must treat addresses as read-only).

    >>> a = Address("12 Maple Street", "Austin", "78701", "US", "TX")
    >>> address_surface(a, random.Random(1), missing=1.0) is None
    True
    """
    r = rng.random()
    if r < missing:
        return None
    r = (r - missing) / (1 - missing)
    if r < 0.62:
        return address
    if r < 0.82:
        line1 = abbreviate(address.line1, dot=r < 0.70)
        return Address(line1, address.city, address.postcode, address.country_code, address.region)
    if r < 0.88:
        return Address(address.line1.upper(), address.city.upper(), address.postcode.upper(),
                       address.country_code, address.region)
    if r < 0.93:
        return Address(address.line1.lower(), address.city.lower(), address.postcode.lower(),
                       address.country_code, address.region)
    if r < 0.97:
        return Address(f" {address.line1}", f"{address.city} ", address.postcode.replace(" ", ""),
                       address.country_code, address.region)
    return Address(abbreviate(address.line1), address.city, address.postcode,
                   address.country_code, "")
