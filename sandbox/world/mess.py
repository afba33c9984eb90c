"""How people's names end up written differently in each system: typos, nicknames, case, spaces."""

from __future__ import annotations

import random

from sandbox.world.names import NICKNAMES

_NEIGHBOURS = {
    "a": "sqz", "b": "vnh", "c": "xvd", "d": "sfe", "e": "wrd", "f": "dgr", "g": "fht",
    "h": "gjy", "i": "uok", "j": "hku", "k": "jli", "l": "ko", "m": "nj", "n": "bmh",
    "o": "ipl", "p": "ol", "q": "wa", "r": "etf", "s": "adw", "t": "ryg", "u": "yij",
    "v": "cbf", "w": "qes", "x": "zc", "y": "tuh", "z": "xa",
}

# Share of records whose name is written differently from the person's real name.
NAME_NICKNAME = 0.04
NAME_TYPO = 0.03
NAME_CASE = 0.02
NAME_SPACE = 0.015


def typo(word: str, rng: random.Random) -> str:
    """``word`` with one slip of the keyboard (the first letter is kept).

    >>> typo("Jennifer", random.Random(4)) != "Jennifer"
    True
    >>> typo("Al", random.Random(0))
    'All'
    """
    if len(word) < 3:
        return word + word[-1:]
    at = 1 + int(rng.random() * (len(word) - 1))
    op = int(rng.random() * 4)
    if op == 0 and at < len(word) - 1 and word[at] != word[at + 1]:
        return f"{word[:at]}{word[at + 1]}{word[at]}{word[at + 2:]}"
    if op == 1:
        return f"{word[:at]}{word[at + 1:]}"
    if op == 2:
        return f"{word[:at]}{word[at]}{word[at:]}"
    keys = _NEIGHBOURS.get(word[at].lower(), "e")
    return f"{word[:at]}{keys[int(rng.random() * len(keys))]}{word[at + 1:]}"


def nickname(first: str, rng: random.Random) -> str | None:
    """A short name ``first`` goes by, if it has one.

    >>> nickname("William", random.Random(1)) in {"Bill", "Will", "Billy"}
    True
    >>> nickname("Zed", random.Random(1)) is None
    True
    """
    options = NICKNAMES.get(first)
    return options[int(rng.random() * len(options))] if options else None


def name_surface(first: str, last: str, rng: random.Random) -> tuple[str, str]:
    """The (first, last) name as typed into one system; usually exactly the real name.

    >>> name_surface("Robert", "Smith", random.Random(0))
    ('Robert', 'Smith')
    """
    r = rng.random()
    if r >= NAME_NICKNAME + NAME_TYPO + NAME_CASE + NAME_SPACE:
        return first, last
    if r < NAME_NICKNAME:
        return nickname(first, rng) or first, last
    r -= NAME_NICKNAME
    if r < NAME_TYPO:
        return (typo(first, rng), last) if r < NAME_TYPO / 2 else (first, typo(last, rng))
    r -= NAME_TYPO
    if r < NAME_CASE:
        return (first.upper(), last.upper()) if r < NAME_CASE / 2 else (first.lower(), last.lower())
    return (f"{first} ", last) if rng.random() < 0.5 else (first, f" {last}")


def strong_variant(first: str, last: str, rng: random.Random) -> tuple[str, str]:
    """A clearly different spelling, as duplicates created by another person often have.

    >>> strong_variant("Robert", "Smith", random.Random(3)) != ("Robert", "Smith")
    True
    """
    r = rng.random()
    nick = nickname(first, rng)
    if nick and r < 0.45:
        return nick, last
    if r < 0.70:
        return typo(first, rng), last
    if r < 0.90:
        return first, typo(last, rng)
    return first[:1] + ".", last


def company_name_surface(core: str, suffix: str, rng: random.Random) -> str:
    """A company's name as typed into one system (legal suffix kept, dropped or restyled).

    >>> company_name_surface("Harper Logistics", "Inc", random.Random(1))
    'Harper Logistics Inc'
    """
    full = f"{core} {suffix}" if suffix else core
    r = rng.random()
    if r < 0.70:
        return full
    if r < 0.82:
        return core
    if r < 0.88 and suffix:
        return f"{core}, {suffix}."
    if r < 0.94:
        return full.upper()
    return f"{full} "
