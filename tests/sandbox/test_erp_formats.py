"""Xero's wire formats as pure functions: MS-JSON dates, If-Modified-Since forms, ``where``."""

from __future__ import annotations

import random

import pytest

from sandbox.erp.dates import (
    date_fields,
    ms_json,
    ms_json_bare,
    parse_ms_json,
    parse_request_date,
    parse_timestamp,
)
from sandbox.erp.where import WhereError, compile_order, compile_where


def test_ms_json_round_trips() -> None:
    rng = random.Random(7)
    for ms in [0, 1, -86_400_000, 1_573_755_038_314, *(rng.randrange(-10**12, 10**13)
                                                         for _ in range(200))]:
        assert parse_ms_json(ms_json(ms)) == ms
        assert parse_ms_json(ms_json_bare(ms)) == ms
    assert ms_json(1_573_755_038_314) == "/Date(1573755038314+0000)/"
    assert parse_ms_json("/Date(1573755038314+1300)/") == 1_573_755_038_314
    with pytest.raises(ValueError, match="MS-JSON"):
        parse_ms_json("1573755038314")


def test_dates_as_xero_serves_and_reads_them() -> None:
    date_ms, date_string = date_fields("2019-11-13")
    assert (date_ms, date_string) == ("/Date(1573603200000+0000)/", "2019-11-13T00:00:00")
    assert parse_request_date(date_ms) == parse_request_date(date_string) == "2019-11-13"
    with pytest.raises(ValueError):
        parse_request_date("13/11/2019")


def test_if_modified_since_accepts_http_and_iso_forms() -> None:
    expected = 1_580_991_463_000
    assert parse_timestamp("Thu, 06 Feb 2020 12:17:43 GMT") == expected
    assert parse_timestamp("2020-02-06T12:17:43") == expected
    assert parse_timestamp("2020-02-06T12:17:43Z") == expected
    assert parse_timestamp("2020-02-06T04:17:43.202-08:00") == expected + 202
    with pytest.raises(ValueError):
        parse_timestamp("last tuesday")


@pytest.mark.parametrize("where", [
    'ContactStatus=="ACTIVE"', 'EmailAddress=="a@b.com" AND Name=="X"',
    'ContactNumber=="C-1" && IsCustomer==true', 'Name.Contains("lee") OR Name.StartsWith("A")',
    'NOT (ContactStatus=="ARCHIVED")', 'UpdatedDateUTC>=DateTime(2024,01,31)',
    'EmailAddress!=null', 'Name.ToLower()=="ann"',
])
def test_supported_where_clauses_compile(where: str) -> None:
    sql, params = compile_where(where, "contacts")
    assert sql.count("?") == len(params)


@pytest.mark.parametrize(("where", "named"), [
    ('Shoe=="red"', "Shoe"), ('Name=="x" AND', 'Name=="x" AND'), ('Name.Reverse()=="x"', "Reverse"),
    ('IsCustomer=="yes"', "IsCustomer"), ('Name > "a"', "Name"),
])
def test_unsupported_where_clauses_name_the_problem(where: str, named: str) -> None:
    with pytest.raises(WhereError, match=named.replace("(", r"\(").replace(")", r"\)")):
        compile_where(where, "contacts")


def test_order_terms() -> None:
    assert compile_order("UpdatedDateUTC ASC, Name DESC", "contacts") == [
        ("updated_ms", False), ("key", True)]
    with pytest.raises(WhereError, match="Colour"):
        compile_order("Colour", "invoices")
