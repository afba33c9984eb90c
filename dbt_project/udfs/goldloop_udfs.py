"""DuckDB scalar functions dbt's SQL calls: loaded by dbt-duckdb as a plugin (see profiles.yml).

``goldloop_phone_e164(phone, country)`` formats a phone number as E.164 with ``phonenumbers``.
A national form ("07700 900123") is read in the record's country (ISO 3166-1 alpha-2); when the
record has no country, in the first of ``DEFAULT_REGIONS`` where it is a valid number. Text
that is no possible number gives NULL. Postgres has no such function: there the macro
``normalize_phone`` falls back to plain SQL (see macros/normalize_phone.sql).

>>> phone_e164("(415) 555-0123", "US"), phone_e164("07700 900123", "GB")
('+14155550123', '+447700900123')
>>> phone_e164("0044 7700 900123", None), phone_e164("n/a", "US") is None
('+447700900123', True)
>>> phone_e164("0412 345 678", None), phone_e164("+44 (0)7911 123456", "US")
('+61412345678', '+447911123456')
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import phonenumbers
from dbt.adapters.duckdb.plugins import BasePlugin

# Where a number with no country is most likely from, in order (the countries goldloop's
# customers live in; a plugin config `default_regions` in profiles.yml overrides it).
DEFAULT_REGIONS: tuple[str, ...] = ("US", "GB", "CA", "AU", "IE")


def _parse(text: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None


@lru_cache(maxsize=500_000)
def phone_e164(phone: str | None, country: str | None,
               default_regions: tuple[str, ...] = DEFAULT_REGIONS) -> str | None:
    """``phone`` in E.164, read as a national number of ``country`` when it has no ``+``/``00``."""
    if phone is None:
        return None
    text = phone.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    if not any(ch.isdigit() for ch in text):
        return None
    region = (country or "").strip().upper()
    candidates = (region,) if region else default_regions
    possible: phonenumbers.PhoneNumber | None = None
    for candidate in candidates:
        parsed = _parse(text, candidate)
        if parsed is None:
            continue
        if phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        if possible is None and phonenumbers.is_possible_number(parsed) and (
                region or text.startswith("+")):
            possible = parsed
    if possible is None:
        return None
    return phonenumbers.format_number(possible, phonenumbers.PhoneNumberFormat.E164)


class Plugin(BasePlugin):
    """Registers goldloop's scalar functions on each DuckDB connection dbt opens."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        regions = plugin_config.get("default_regions") or DEFAULT_REGIONS
        self.default_regions = tuple(str(r).upper() for r in regions)

    def configure_connection(self, conn: Any) -> None:
        regions = self.default_regions

        def e164(phone: str | None, country: str | None) -> str | None:
            return phone_e164(phone, country, regions)

        conn.create_function(
            "goldloop_phone_e164", e164, ["VARCHAR", "VARCHAR"], "VARCHAR",
            null_handling="special", side_effects=False,
        )
