"""The sandbox company's org facts the world does not carry: divisions, locations, job titles.

>>> division_for("Engineering"), division_for("Finance")
('Technology', 'Operations')
>>> location_for("employee-00001") in LOCATIONS
True
>>> employee_number("42"), employee_number("abc")
('00042', 'abc')
"""

from __future__ import annotations

import zlib

LOCATIONS: tuple[str, ...] = ("London", "Manchester", "Dublin", "Remote")

DIVISIONS: dict[str, str] = {
    "Engineering": "Technology", "Product": "Technology", "IT": "Technology",
    "Data": "Technology", "Sales": "Commercial", "Marketing": "Commercial",
    "Customer Success": "Commercial", "Support": "Commercial",
}

TITLES: dict[str, tuple[str, ...]] = {
    "Engineering": ("Software Engineer", "Senior Software Engineer", "Staff Engineer",
                    "Engineering Manager"),
    "Sales": ("Account Executive", "Senior Account Executive", "Sales Manager"),
    "Marketing": ("Marketing Specialist", "Content Manager", "Marketing Manager"),
    "Finance": ("Accountant", "Financial Analyst", "Finance Manager"),
    "Support": ("Support Specialist", "Senior Support Specialist", "Support Lead"),
    "Operations": ("Operations Analyst", "Operations Manager"),
    "People": ("HR Generalist", "People Partner", "Head of People"),
}
DEFAULT_TITLES: tuple[str, ...] = ("Analyst", "Specialist", "Manager")

FIRST_NAMES: tuple[str, ...] = (
    "Amara", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonah", "Keira",
    "Liam", "Maya", "Nikhil", "Olivia", "Pavel", "Quinn", "Rosa", "Sami", "Tara",
)
LAST_NAMES: tuple[str, ...] = (
    "Adeyemi", "Brennan", "Costa", "Dubois", "Evans", "Fischer", "Gupta", "Hughes", "Ivanova",
    "Jensen", "Kowalski", "Lopez", "Murphy", "Nakamura", "Okafor", "Patel", "Quinn", "Rossi",
    "Schmidt", "Turner",
)


def division_for(department: str | None) -> str | None:
    """The division a department belongs to."""
    if not department:
        return None
    return DIVISIONS.get(department, "Operations")


def location_for(key: str) -> str:
    """A stable office for an employee (by any stable key, e.g. the entity id)."""
    return LOCATIONS[zlib.crc32(key.encode()) % len(LOCATIONS)]


def titles_for(department: str | None) -> tuple[str, ...]:
    """Job titles people in a department hold."""
    return TITLES.get(department or "", DEFAULT_TITLES)


def employee_number(record_id: str) -> str:
    """The company's employee number for an employee id (zero-padded when numeric)."""
    return record_id.zfill(5) if record_id.isdigit() else record_id
