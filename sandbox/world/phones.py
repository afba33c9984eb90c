"""Phone numbers: valid-looking E.164 numbers per country, and the formats people type them in."""

from __future__ import annotations

import random

from sandbox.world.names import CA_AREA_CODES, US_AREA_CODES

# country -> (calling code, trunk prefix, international call prefix, digit groups of the
# national significant number)
_PLAN: dict[str, tuple[str, str, str, tuple[int, ...]]] = {
    "US": ("1", "1", "011", (3, 3, 4)),
    "CA": ("1", "1", "011", (3, 3, 4)),
    "GB": ("44", "0", "00", (4, 6)),
    "AU": ("61", "0", "0011", (3, 3, 3)),
    "IE": ("353", "0", "00", (2, 3, 4)),
}
# Mobile ranges libphonenumber accepts as valid: GB 073-075 and 078 whole, 077/079 from their
# 2nd hundred (07700 and 07911 are reserved or unassigned), AU 040-043 and 046.
_GB_MOBILE = ("73", "74", "75", "78")
_GB_MOBILE_GAPPED = ("77", "79")
_AU_MOBILE = ("40", "41", "42", "43", "46")
_IE_MOBILE = ("83", "85", "86", "87", "89")
PHONE_STYLES = 8  # ways of writing a number, see format_phone


def make_e164(country: str, rng: random.Random) -> str:
    """A random mobile (or NANP) number of ``country`` in E.164 form.

    >>> make_e164("GB", random.Random(3))[:4]
    '+447'
    """
    rand = rng.random
    if country in ("US", "CA"):
        areas = US_AREA_CODES if country == "US" else CA_AREA_CODES
        area = areas[int(rand() * len(areas))]
        exchange = 200 + int(rand() * 800)
        if exchange % 100 == 11 or exchange == 555:
            exchange += 1
        return f"+1{area}{exchange}{str(int(rand() * 10_000)).zfill(4)}"
    if country == "GB":
        if rand() < 0.3:
            prefix = f"{_GB_MOBILE_GAPPED[int(rand() * 2)]}{2 + int(rand() * 7)}"
            return f"+44{prefix}{str(int(rand() * 10_000_000)).zfill(7)}"
        return f"+44{_GB_MOBILE[int(rand() * 4)]}{str(int(rand() * 100_000_000)).zfill(8)}"
    if country == "AU":
        return f"+61{_AU_MOBILE[int(rand() * 5)]}{str(int(rand() * 10_000_000)).zfill(7)}"
    if country == "IE":
        return f"+353{_IE_MOBILE[int(rand() * 5)]}{str(int(rand() * 10_000_000)).zfill(7)}"
    raise ValueError(f"no phone plan for country {country!r}: use one of {sorted(_PLAN)}")


def _groups(nsn: str, sizes: tuple[int, ...], sep: str) -> str:
    parts, start = [], 0
    for size in sizes:
        parts.append(nsn[start:start + size])
        start += size
    return sep.join(parts)


def format_phone(e164: str, country: str, style: int) -> str:
    """``e164`` written the ``style``-th way people write numbers of ``country`` (0 = E.164).

    >>> [format_phone("+14155550123", "US", s) for s in (0, 1, 2, 5)]
    ['+14155550123', '(415) 555-0123', '415-555-0123', '1-415-555-0123']
    >>> [format_phone("+447700900123", "GB", s) for s in (1, 2, 6)]
    ['07700 900123', '+44 7700 900123', '+44 (0)7700 900123']
    """
    style %= PHONE_STYLES
    if style == 0:
        return e164
    cc, trunk, idd, sizes = _PLAN[country]
    nsn = e164[1 + len(cc):]
    if cc == "1":
        area, exchange, line = nsn[:3], nsn[3:6], nsn[6:]
        if style == 1:
            return f"({area}) {exchange}-{line}"
        if style == 2:
            return f"{area}-{exchange}-{line}"
        if style == 3:
            return f"{area}.{exchange}.{line}"
        if style == 4:
            return f"+1 {area}-{exchange}-{line}"
        if style == 5:
            return f"1-{area}-{exchange}-{line}"
        if style == 6:
            return nsn
        return f"+1 ({area}) {exchange}-{line}"
    if style in (1, 7):
        return f"{trunk}{_groups(nsn, sizes, ' ')}"
    if style == 2:
        return f"+{cc} {_groups(nsn, sizes, ' ')}"
    if style == 3:
        return f"{trunk}{_groups(nsn, sizes, '-')}"
    if style == 4:
        return f"{trunk}{nsn}"
    if style == 5:
        return f"{idd}{cc} {_groups(nsn, sizes, ' ')}"
    return f"+{cc} ({trunk}){_groups(nsn, sizes, ' ')}"




def phone_surface(e164: str, country: str, rng: random.Random, missing: float) -> str | None:
    """The phone as one system holds it: missing with probability ``missing``, else any format.

    >>> phone_surface("+14155550123", "US", random.Random(0), missing=1.0) is None
    True
    """
    r = rng.random()
    if r < missing:
        return None
    # A third of numbers are stored as entered by an integration (E.164), the rest as typed.
    style = 0 if r < missing + (1 - missing) / 3 else int(rng.random() * PHONE_STYLES)
    return format_phone(e164, country, style)
