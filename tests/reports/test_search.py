"""Customer search finds exactly the customers a plain reading of the rule finds, in order.

The rule: the text equals the customer id or one of its records' ids, or appears (ignoring
case, wildcards as plain characters) in the e-mail or in "first last", or its digits (six or
more) appear in the phone. The page's query is tuned for speed (loose matches first, each name
on its own); the reference below is the rule written the slow, obvious way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.reports.conftest import ReportWorld
from tests.reports.pages import table_rows, table_total

Query = Callable[[str, tuple[Any, ...]], list[tuple[Any, ...]]]

REFERENCE = (
    "select customer_id from marts.customers where customer_id = ? "
    "or strpos(lower(coalesce(email, '')), ?) > 0 "
    "or strpos(lower(coalesce(first_name, '') || ' ' || coalesce(last_name, '')), ?) > 0 "
    "or (? and strpos(coalesce(phone, ''), ?) > 0) "
    "or customer_id in (select customer_id from marts.customer_xref where record_id = ?) "
    "order by customer_id")


def expected_ids(query: Query, text: str) -> list[str]:
    """Every customer id the rule matches for ``text``, in customer id order."""
    digits = "".join(ch for ch in text if ch.isdigit())
    params = (text, text.lower(), text.lower(), len(digits) >= 6, digits, text)
    return [str(c) for (c,) in query(REFERENCE, params)]


def searches(query: Query) -> list[str]:
    """Texts worth searching for in a world: ids, e-mails (with ``_`` and ``.``), full names,
    a fragment across first and last name, a phone number as typed, wildcards, nothing."""
    customer_id, email, first, last = query(
        "select customer_id, email, first_name, last_name from marts.customers "
        "where email is not null and first_name is not null and last_name is not null "
        "order by customer_id limit 1", ())[0]
    underscored = query("select min(email) from marts.customers where email like '%\\_%' "
                        "escape '\\'", ())[0][0]
    phone = query("select min(phone) from marts.customers where phone is not null", ())[0][0]
    record = query("select min(record_id) from marts.customer_xref where system = 'erp'", ())
    texts = [customer_id, email.upper(), str(email).split("@")[1], f"{first} {last}",
             f"{first[-2:]} {last[:2]}".upper(), last.lower(), f"{first} {last} x",
             "%", "_", "\\", "50% off", "no such customer", str(record[0][0])]
    if underscored:
        texts.append(str(underscored))
    if phone:
        texts.append(f"({phone[-10:-7]}) {phone[-7:-4]}-{phone[-4:]}")
    return texts


def page_ids(client: TestClient, text: str) -> tuple[list[str], int]:
    """The ids the customers page lists for ``text`` (its largest page), and its total."""
    html = client.get("/customers", params={"q": text, "size": "200"}).text
    return [r["customer_id"] for r in table_rows(html, "customers")], table_total(html,
                                                                                 "customers")


def duckdb_query(world: ReportWorld) -> Query:
    """The world's read-only query function."""
    return lambda sql, params: world.query(sql, params)


@pytest.fixture(scope="module")
def texts(world: ReportWorld) -> list[str]:
    """The texts to search the world for."""
    return searches(duckdb_query(world))


def test_search_lists_exactly_the_customers_the_rule_matches(
        client: TestClient, world: ReportWorld, texts: list[str]) -> None:
    found_some = 0
    for text in texts:
        expected = expected_ids(duckdb_query(world), text)
        ids, total = page_ids(client, text)
        assert (ids, total) == (expected[:200], len(expected)), text
        found_some += bool(expected)
    assert found_some >= len(texts) // 2  # the texts come from the world: most must match


def test_a_name_across_first_and_last_name_is_found(client: TestClient,
                                                    world: ReportWorld) -> None:
    customer_id, first, last = world.query(
        "select customer_id, first_name, last_name from marts.customers "
        "where first_name is not null and last_name is not null order by customer_id limit 1")[0]
    ids, _ = page_ids(client, f"{first[-2:]} {last[:3]}".lower())
    assert customer_id in ids


def test_search_matches_a_column_only_where_the_text_is_in_it(
        client: TestClient, world: ReportWorld) -> None:
    """Words found in the first and last name of different people are not a full-name match."""
    first, last = world.query(
        "select a.first_name, b.last_name from marts.customers as a, marts.customers as b "
        "where a.first_name is not null and b.last_name is not null and not exists ("
        "select 1 from marts.customers as c where c.first_name = a.first_name "
        "and c.last_name = b.last_name) order by 1, 2 limit 1")[0]
    text = f"{first} {last}"
    assert expected_ids(duckdb_query(world), text) == []
    assert page_ids(client, text) == ([], 0)
