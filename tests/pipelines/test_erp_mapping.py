"""The erp connector's record mapping: one in-place pass gives what the loader expects."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pipelines.erp.dates import convert_dates
from pipelines.erp.entities import INVOICES
from pipelines.erp.mapping import map_record, slim_links, to_decimals

INVOICE: dict[str, Any] = {
    "Type": "ACCREC", "InvoiceID": "i-1", "InvoiceNumber": "INV-1", "Status": "VOIDED",
    "Payments": [{"PaymentID": "p-1", "Date": "/Date(1573689600000+0000)/", "Amount": 40.1}],
    "CreditNotes": [], "AmountDue": 0.0, "AmountPaid": 40.1, "CurrencyRate": 1.0,
    "Contact": {"ContactID": "c-1", "Name": "Zoë", "Phones": [{"PhoneNumber": "1"}]},
    "DateString": "2019-11-14T00:00:00", "Date": "/Date(1573689600000+0000)/",
    "LineItems": [{"LineItemID": "l-1", "Quantity": 3.0, "UnitAmount": 13.3667,
                   "LineAmount": 40.1, "Tracking": [{"Name": "Region", "Option": "/Date(x)/"}]}],
    "Total": 40.1, "UpdatedDateUTC": "/Date(1573755038314+0000)/", "Count": 2,
    "HasErrors": False,
}


def test_one_pass_maps_a_record_as_the_separate_steps_did() -> None:
    expected = to_decimals(convert_dates(slim_links(copy.deepcopy(INVOICE))))
    expected["_goldloop_deleted"] = True  # VOIDED
    row = map_record(copy.deepcopy(INVOICE), INVOICES.status_field, INVOICES.deleted_statuses)
    assert row == expected
    assert row["UpdatedDateUTC"] == datetime(2019, 11, 14, 18, 10, 38, 314000, tzinfo=UTC)
    assert row["Payments"][0]["Amount"] == Decimal("40.1")  # exact, also inside lists
    assert row["LineItems"][0]["UnitAmount"] == Decimal("13.3667")
    assert row["LineItems"][0]["Tracking"][0]["Option"] == "/Date(x)/"  # not a date: kept
    assert row["Contact"] == {"ContactID": "c-1", "Name": "Zoë"}  # embedded copy cut down
    assert (row["Count"], row["HasErrors"], row["DateString"]) == (2, False,
                                                                   "2019-11-14T00:00:00")


def test_repeated_values_map_the_same_on_every_page() -> None:
    pages = [[copy.deepcopy(INVOICE) for _ in range(3)] for _ in range(2)]
    rows = [map_record(r, INVOICES.status_field, INVOICES.deleted_statuses)
            for page in pages for r in page]
    assert all(r == rows[0] for r in rows)
    assert {type(r["Total"]) for r in rows} == {Decimal}
