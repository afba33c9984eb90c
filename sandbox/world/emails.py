"""E-mail addresses: how people's addresses are formed, and how systems end up holding others."""

from __future__ import annotations

import random
from bisect import bisect_right
from functools import lru_cache
from itertools import accumulate

from sandbox.world.names import DOMAIN_TYPOS, PERSONAL_DOMAINS, PLUS_TAGS

_DOMAINS = [d for d, _ in PERSONAL_DOMAINS]
_DOMAIN_CUM = list(accumulate(w for _, w in PERSONAL_DOMAINS))


@lru_cache(maxsize=1 << 16)
def slug(text: str) -> str:
    """Lower-case letters and digits only.

    >>> slug("O'Neil-Smith Jr."), slug("Ann")
    ('oneilsmithjr', 'ann')
    """
    lower = text.lower()
    return lower if lower.isalnum() else "".join(c for c in lower if c.isalnum())


def normalize_email(email: str | None) -> str | None:
    """The comparable form of an address (trimmed, lower case).

    >>> normalize_email("  Bob.Smith@Gmail.com ")
    'bob.smith@gmail.com'
    """
    return email.strip().lower() if email is not None else None


def personal_domain(rng: random.Random) -> str:
    """A free-mail domain, weighted by popularity.

    >>> personal_domain(random.Random(0)) in {d for d, _ in PERSONAL_DOMAINS}
    True
    """
    return _DOMAINS[min(bisect_right(_DOMAIN_CUM, rng.random() * _DOMAIN_CUM[-1]),
                        len(_DOMAINS) - 1)]


def personal_local(first: str, last: str, rng: random.Random) -> str:
    """The local part someone picks for a free-mail address (often with digits).

    >>> personal_local("Ann", "Lee", random.Random(2)).startswith(("ann", "a", "lee"))
    True
    """
    f, lname = slug(first), slug(last)
    r = rng.random()
    n = 1 + int(rng.random() * 98)
    if r < 0.18:
        return f"{f}.{lname}"
    if r < 0.30:
        return f"{f}{lname}"
    if r < 0.50:
        return f"{f}.{lname}{n}"
    if r < 0.62:
        return f"{f[0]}{lname}{n}"
    if r < 0.70:
        return f"{f}_{lname}"
    if r < 0.80:
        return f"{f}{lname[0]}{n}"
    if r < 0.88:
        return f"{lname}.{f}"
    return f"{f}{lname}{str((60 + int(rng.random() * 45)) % 100).zfill(2)}"


WORK_PATTERNS = 5


def work_local(first: str, last: str, pattern: int) -> str:
    """The local part of a work address under a company's ``pattern``.

    >>> [work_local("Ann", "Lee", p) for p in range(WORK_PATTERNS)]
    ['ann.lee', 'alee', 'ann', 'annl', 'ann_lee']
    """
    f, lname = slug(first), slug(last)
    return (f"{f}.{lname}", f"{f[0]}{lname}", f, f"{f}{lname[0]}", f"{f}_{lname}")[pattern]


def plus_address(email: str, rng: random.Random) -> str:
    """The address with a ``+tag`` some people add for one shop or list.

    >>> plus_address("ann.lee@gmail.com", random.Random(0)).split("@")[0].startswith("ann.lee+")
    True
    """
    local, _, domain = email.partition("@")
    return f"{local}+{PLUS_TAGS[int(rng.random() * len(PLUS_TAGS))]}@{domain}"


def typo_domain(email: str, rng: random.Random) -> str:
    """The address with a misspelled domain, as typed into a form.

    >>> typo_domain("ann@gmail.com", random.Random(0)) != "ann@gmail.com"
    True
    >>> typo_domain("ann@harbor.co.uk", random.Random(0))
    'ann@harbr.co.uk'
    """
    local, _, domain = email.partition("@")
    typos = DOMAIN_TYPOS.get(domain)
    if typos:
        return f"{local}@{typos[int(rng.random() * len(typos))]}"
    label, dot, rest = domain.partition(".")
    if len(label) > 3:
        cut = 1 + int(rng.random() * (len(label) - 2))
        return f"{local}@{label[:cut]}{label[cut + 1:]}{dot}{rest}"
    return f"{local}@{label}{dot}{rest}m"


def email_surface(email: str, rng: random.Random) -> str:
    """The address as typed into one system: usually as is, sometimes cased or padded.

    The result always normalizes back to the same address.

    >>> e = "ann.lee@gmail.com"
    >>> all(normalize_email(email_surface(e, random.Random(s))) == e for s in range(50))
    True
    """
    r = rng.random()
    if r < 0.91:
        return email
    if r < 0.95:
        local, _, domain = email.partition("@")
        return f"{local[:1].upper()}{local[1:]}@{domain}"
    if r < 0.97:
        return email.upper()
    if r < 0.99:
        return f"{email} "
    return f" {email}"
