"""Xero-shaped record bodies (Contact, Item, Invoice, Payment, CreditNote) from plain values.

Used by the seeder (world → store), by the write endpoints and by ``mutate``, so the three always
serve the same shape. Money arrives in integer cents and leaves as 2-decimal numbers; dates
arrive as ISO ``YYYY-MM-DD`` and leave as MS-JSON plus a ``...String`` twin where Xero has one.

>>> body = contact_body("c1", "Ann Lee", "Ann", "Lee", "ann@x.com", "+1 555", None, None, True,
...                     "ACTIVE", 0)
>>> body["Phones"][1]["PhoneType"], body["Phones"][1]["PhoneNumber"], body["UpdatedDateUTC"]
('DEFAULT', '+1 555', '/Date(0+0000)/')
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sandbox.erp.dates import date_fields, ms_json

PHONE_TYPES = ("DDI", "DEFAULT", "FAX", "MOBILE")
ADDRESS_TYPES = ("POBOX", "STREET")
SALES_ACCOUNT = "200"
BANK_ACCOUNT_ID = "0f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f"
LINE_NAMESPACE = uuid.UUID("6c1e5f0a-3b8d-4f59-9a43-0d2f9e7b5c11")
DEFAULT_CURRENCY = "USD"

COUNTRY_NAMES = {
    "US": "United States", "GB": "United Kingdom", "CA": "Canada", "AU": "Australia",
    "NZ": "New Zealand", "IE": "Ireland", "DE": "Germany", "FR": "France", "NL": "Netherlands",
    "ES": "Spain", "IT": "Italy", "SE": "Sweden", "DK": "Denmark", "NO": "Norway",
    "BE": "Belgium", "CH": "Switzerland", "AT": "Austria", "PT": "Portugal", "ZA": "South Africa",
    "SG": "Singapore", "JP": "Japan", "IN": "India", "BR": "Brazil", "MX": "Mexico",
}


@dataclass(frozen=True, slots=True)
class PostalAddress:
    """The address fields Xero keeps (Country is free text: the sandbox writes the name)."""

    line1: str
    city: str
    postcode: str
    country: str
    region: str = ""


def money(cents: int) -> float:
    """Cents as Xero's 2-decimal amount.

    >>> money(1999), money(-5)
    (19.99, -0.05)
    """
    return round(cents / 100, 2)


def country_name(code: str) -> str:
    """What a person types in Xero's Country field for an ISO code (the code if unknown).

    >>> country_name("GB"), country_name("XX")
    ('United Kingdom', 'XX')
    """
    return COUNTRY_NAMES.get(code.upper(), code)


def blank_phone(phone_type: str) -> dict[str, str]:
    return {"PhoneType": phone_type, "PhoneNumber": "", "PhoneAreaCode": "", "PhoneCountryCode": ""}


def blank_address(address_type: str) -> dict[str, str]:
    return {"AddressType": address_type, "AddressLine1": "", "City": "", "Region": "",
            "PostalCode": "", "Country": ""}


def contact_body(contact_id: str, name: str, first_name: str, last_name: str, email: str | None,
                 phone: str | None, address: PostalAddress | None, contact_number: str | None,
                 is_customer: bool, status: str, updated_ms: int) -> dict[str, Any]:
    """A Contact as ``GET /Contacts`` serves it (all four phones, both addresses)."""
    phones = [blank_phone(t) for t in PHONE_TYPES]
    if phone:
        phones[1]["PhoneNumber"] = phone
    addresses = [blank_address(t) for t in ADDRESS_TYPES]
    if address is not None:
        addresses[0].update(AddressLine1=address.line1, City=address.city,
                            Region=address.region, PostalCode=address.postcode,
                            Country=address.country)
    body: dict[str, Any] = {"ContactID": contact_id}
    if contact_number:
        body["ContactNumber"] = contact_number
    body.update({
        "ContactStatus": status,
        "Name": name,
        "FirstName": first_name,
        "LastName": last_name,
        "EmailAddress": email or "",
        "Addresses": addresses,
        "Phones": phones,
        "UpdatedDateUTC": ms_json(updated_ms),
        "ContactGroups": [],
        "IsSupplier": False,
        "IsCustomer": is_customer,
        "ContactPersons": [],
        "HasAttachments": False,
        "HasValidationErrors": False,
    })
    return body


def item_body(item_id: str, code: str, name: str, description: str, price_cents: int,
              updated_ms: int) -> dict[str, Any]:
    """An Item as ``GET /Items`` serves it (Xero caps Code at 30 and Name at 50 characters)."""
    return {
        "ItemID": item_id,
        "Code": code[:30],
        "Name": name[:50],
        "Description": description[:4000],
        "PurchaseDescription": "",
        "UpdatedDateUTC": ms_json(updated_ms),
        "PurchaseDetails": {},
        "SalesDetails": {"UnitPrice": money(price_cents), "AccountCode": SALES_ACCOUNT,
                         "TaxType": "NONE"},
        "IsTrackedAsInventory": False,
        "IsSold": True,
        "IsPurchased": False,
    }


def line_item_id_for(invoice_id: str, index: int) -> str:
    """A stable GUID for line ``index`` of an invoice (its GUID with the last digits replaced).

    >>> line_item_id_for("0f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f", 2)
    '0f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d0002'
    """
    if len(invoice_id) == 36:
        return f"{invoice_id[:32]}{index:04x}"
    return str(uuid.uuid5(LINE_NAMESPACE, f"{invoice_id}:{index}"))


def line_item(invoice_id: str, index: int, item_code: str | None, description: str,
              quantity: float, unit_amount: float, account_code: str = SALES_ACCOUNT,
              line_item_id: str | None = None) -> dict[str, Any]:
    """One invoice line; ``LineAmount`` = quantity * unit amount (no tax, no discount)."""
    line: dict[str, Any] = {"LineItemID": line_item_id or line_item_id_for(invoice_id, index)}
    if item_code:
        line["ItemCode"] = item_code
    line.update({
        "Description": description,
        "Quantity": quantity,
        "UnitAmount": unit_amount,
        "LineAmount": round(quantity * unit_amount, 2),
        "AccountCode": account_code,
        "TaxType": "NONE",
        "TaxAmount": 0.0,
    })
    return line


def invoice_body(invoice_id: str, number: str, invoice_type: str, contact: dict[str, str],
                 reference: str, day: str, due_day: str, status: str, currency: str,
                 lines: Sequence[dict[str, Any]], updated_ms: int,
                 payments: Sequence[dict[str, Any]] = (), credited: float = 0.0,
                 ) -> dict[str, Any]:
    """An Invoice with its totals worked out from the lines, payments and credit."""
    total = round(sum(float(line["LineAmount"]) for line in lines), 2)
    paid = round(sum(float(p["Amount"]) for p in payments), 2)
    closed = status in {"PAID", "VOIDED", "DELETED"}
    due = 0.0 if closed else max(round(total - paid - credited, 2), 0.0)
    date_ms, date_string = date_fields(day)
    due_ms, due_string = date_fields(due_day)
    body: dict[str, Any] = {
        "Type": invoice_type,
        "InvoiceID": invoice_id,
        "InvoiceNumber": number,
        "Reference": reference,
        "Payments": list(payments),
        "CreditNotes": [],
        "AmountDue": due,
        "AmountPaid": paid,
        "AmountCredited": round(credited, 2),
        "CurrencyRate": 1.0,
        "IsDiscounted": False,
        "HasAttachments": False,
        "HasErrors": False,
        "Contact": dict(contact),
        "DateString": date_string,
        "Date": date_ms,
        "DueDateString": due_string,
        "DueDate": due_ms,
        "Status": status,
        "LineAmountTypes": "NoTax",
        "LineItems": list(lines),
        "SubTotal": total,
        "TotalTax": 0.0,
        "Total": total,
        "UpdatedDateUTC": ms_json(updated_ms),
        "CurrencyCode": currency,
    }
    if status == "PAID" and payments:
        body["FullyPaidOnDate"] = max(payments, key=lambda p: str(p["Date"]))["Date"]
    return body


def payment_ref(payment_id: str, day: str, amount: float) -> dict[str, Any]:
    """The short payment an invoice lists under ``Payments``."""
    return {"PaymentID": payment_id, "Date": date_fields(day)[0], "Amount": amount}


def payment_body(payment_id: str, invoice: dict[str, Any], amount_cents: int, day: str,
                 status: str, updated_ms: int) -> dict[str, Any]:
    """A Payment against an ACCREC invoice (``invoice`` is the invoice body)."""
    amount = money(amount_cents)
    return {
        "PaymentID": payment_id,
        "Date": date_fields(day)[0],
        "BankAmount": amount,
        "Amount": amount,
        "Reference": "",
        "CurrencyRate": 1.0,
        "PaymentType": "ACCRECPAYMENT",
        "Status": status,
        "UpdatedDateUTC": ms_json(updated_ms),
        "HasAccount": True,
        "IsReconciled": False,
        "HasValidationErrors": False,
        "Account": {"AccountID": BANK_ACCOUNT_ID, "Code": "090"},
        "Invoice": {
            "Type": invoice.get("Type", "ACCREC"),
            "InvoiceID": invoice["InvoiceID"],
            "InvoiceNumber": invoice["InvoiceNumber"],
            "Contact": dict(invoice["Contact"]),
            "CurrencyCode": invoice.get("CurrencyCode", DEFAULT_CURRENCY),
        },
    }


def credit_note_body(credit_note_id: str, number: str, contact: dict[str, str],
                     invoice: dict[str, Any] | None, day: str, status: str, total_cents: int,
                     currency: str, updated_ms: int) -> dict[str, Any]:
    """An ACCRECCREDIT credit note, allocated in full to ``invoice`` when there is one."""
    total = money(total_cents)
    date_ms, date_string = date_fields(day)
    allocations: list[dict[str, Any]] = []
    if invoice is not None and status != "VOIDED":
        allocations.append({"Amount": total, "Date": date_ms,
                            "Invoice": {"InvoiceID": invoice["InvoiceID"],
                                        "InvoiceNumber": invoice["InvoiceNumber"]}})
    remaining = 0.0 if status == "VOIDED" or allocations else total
    return {
        "CreditNoteID": credit_note_id,
        "CreditNoteNumber": number,
        "Type": "ACCRECCREDIT",
        "Reference": invoice["InvoiceNumber"] if invoice is not None else "",
        "Contact": dict(contact),
        "DateString": date_string,
        "Date": date_ms,
        "Status": status,
        "LineAmountTypes": "NoTax",
        "LineItems": [line_item(credit_note_id, 0, None, "Credit", 1.0, total)],
        "SubTotal": total,
        "TotalTax": 0.0,
        "Total": total,
        "RemainingCredit": remaining,
        "Allocations": allocations,
        "Payments": [],
        "CurrencyCode": currency,
        "CurrencyRate": 1.0,
        "UpdatedDateUTC": ms_json(updated_ms),
        "HasAttachments": False,
        "HasErrors": False,
        "SentToContact": False,
    }
