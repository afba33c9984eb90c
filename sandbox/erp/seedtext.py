"""The seeder's fast path: JSON text of contacts, invoices and payments written straight from the
world records, without building a dict per record and encoding it.

At a million customers the seeder renders ~2.7M records and Python time is the limit; these
renderers produce exactly the bodies of :mod:`sandbox.erp.docs` (``tests/sandbox/test_erp_seed``
parses both and compares them for every record of a world), at about a third of the cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from json.encoder import encode_basestring as _q  # C-accelerated, keeps non-ASCII as is

from sandbox.erp.bulk import Row
from sandbox.erp.dates import date_fields, ms_json
from sandbox.erp.docs import BANK_ACCOUNT_ID, country_name, line_item_id_for
from sandbox.world.model import ErpContact, ErpInvoice, ErpPayment

_BLANK = '"PhoneNumber":"","PhoneAreaCode":"","PhoneCountryCode":""}'
_BLANK_ADDRESS = '"AddressLine1":"","City":"","Region":"","PostalCode":"","Country":""}'
_STREET = '{"AddressType":"STREET",' + _BLANK_ADDRESS
_CLOSED = frozenset({"PAID", "VOIDED", "DELETED"})
_ARCHIVED = frozenset({"VOIDED", "DELETED"})
_CONTACT_TAIL = (',"ContactGroups":[],"IsSupplier":false,"IsCustomer":{customer},'
                 '"ContactPersons":[],"HasAttachments":false,"HasValidationErrors":false}}')


def contact_row(contact: ErpContact) -> Row:
    """A world contact as a store row (same body as :func:`sandbox.erp.seed.contact_doc`)."""
    addr = contact.address
    if addr is None:
        pobox = '{"AddressType":"POBOX",' + _BLANK_ADDRESS
    else:
        pobox = (f'{{"AddressType":"POBOX","AddressLine1":{_q(addr.line1)},"City":{_q(addr.city)}'
                 f',"Region":{_q(addr.region)},"PostalCode":{_q(addr.postcode)}'
                 f',"Country":{_q(country_name(addr.country_code))}}}')
    number = f',"ContactNumber":{_q(contact.contact_number)}' if contact.contact_number else ""
    status = "ARCHIVED" if contact.archived else "ACTIVE"
    body = (
        f'{{"ContactID":{_q(contact.record_id)}{number},"ContactStatus":"{status}"'
        f',"Name":{_q(contact.name)},"FirstName":{_q(contact.first_name)}'
        f',"LastName":{_q(contact.last_name)},"EmailAddress":{_q(contact.email or "")}'
        f',"Addresses":[{pobox},{_STREET}]'
        f',"Phones":[{{"PhoneType":"DDI",{_BLANK},{{"PhoneType":"DEFAULT","PhoneNumber":'
        f'{_q(contact.phone or "")},"PhoneAreaCode":"","PhoneCountryCode":""}},'
        f'{{"PhoneType":"FAX",{_BLANK},{{"PhoneType":"MOBILE",{_BLANK}]'
        f',"UpdatedDateUTC":"{ms_json(contact.updated_ms)}"'
        + _CONTACT_TAIL.format(customer="true" if contact.is_customer else "false")
    )
    return (contact.record_id, contact.updated_ms, int(contact.archived), contact.name.lower(),
            body)


_AMOUNTS: dict[int, str] = {}


def amount_text(cents: int) -> str:
    """JSON number text of an amount in cents (the same number Xero's 2-decimal amounts parse to).

    >>> amount_text(5399), amount_text(7700), amount_text(-5), amount_text(0)
    ('53.99', '77.00', '-0.05', '0.00')
    """
    text = _AMOUNTS.get(cents)
    if text is None:
        sign, whole = ("-", -cents) if cents < 0 else ("", cents)
        text = f"{sign}{whole // 100}.{whole % 100:02d}"
        if len(_AMOUNTS) < 200_000:
            _AMOUNTS[cents] = text
    return text


def invoice_row(invoice: ErpInvoice, status: str, contact_name: str,
                payments: Sequence[ErpPayment], credited_cents: int) -> Row:
    """A world invoice as a store row (same body as :func:`sandbox.erp.seed.invoice_doc`).

    Amounts are worked in integer cents here; they parse to the same numbers the reference's
    rounded floats have.
    """
    invoice_id = invoice.record_id
    stem = invoice_id[:32] if len(invoice_id) == 36 else None
    lines: list[str] = []
    total = 0
    for index, line in enumerate(invoice.lines):
        amount = line.quantity * line.unit_cents
        total += amount
        line_id = f"{stem}{index:04x}" if stem else line_item_id_for(invoice_id, index)
        code = f',"ItemCode":{_q(line.item_code)}' if line.item_code else ""
        lines.append(
            f'{{"LineItemID":"{line_id}"{code},"Description":{_q(line.description)}'
            f',"Quantity":{line.quantity}.0,"UnitAmount":{amount_text(line.unit_cents)}'
            f',"LineAmount":{amount_text(amount)},"AccountCode":"200","TaxType":"NONE"'
            f',"TaxAmount":0.0}}')
    payment_refs = fully_paid = ""
    paid = 0
    if payments:
        refs = [(p.record_id, date_fields(p.date)[0], p.amount_cents) for p in payments
                if p.status != "DELETED" and not p.archived]
        paid = sum(r[2] for r in refs)
        payment_refs = ",".join(
            f'{{"PaymentID":{_q(pid)},"Date":"{day}","Amount":{amount_text(cents)}}}'
            for pid, day, cents in refs)
        if status == "PAID" and refs:
            fully_paid = f',"FullyPaidOnDate":"{max(r[1] for r in refs)}"'
    due = 0 if status in _CLOSED else max(total - paid - credited_cents, 0)
    total_text = amount_text(total)
    date_ms, date_string = date_fields(invoice.date)
    due_ms, due_string = date_fields(invoice.due_date)
    body = (
        f'{{"Type":"ACCREC","InvoiceID":{_q(invoice_id)},"InvoiceNumber":{_q(invoice.number)}'
        f',"Reference":{_q(invoice.reference)},"Payments":[{payment_refs}],"CreditNotes":[]'
        f',"AmountDue":{amount_text(due)},"AmountPaid":{amount_text(paid)}'
        f',"AmountCredited":{amount_text(credited_cents)}'
        f',"CurrencyRate":1.0,"IsDiscounted":false,"HasAttachments":false,"HasErrors":false'
        f',"Contact":{{"ContactID":{_q(invoice.contact_record_id)},"Name":{_q(contact_name)}}}'
        f',"DateString":"{date_string}","Date":"{date_ms}","DueDateString":"{due_string}"'
        f',"DueDate":"{due_ms}","Status":"{status}","LineAmountTypes":"NoTax"'
        f',"LineItems":[{",".join(lines)}],"SubTotal":{total_text},"TotalTax":0.0'
        f',"Total":{total_text},"UpdatedDateUTC":"/Date({invoice.updated_ms}+0000)/"'
        f',"CurrencyCode":{_q(invoice.currency)}{fully_paid}}}'
    )
    return (invoice_id, invoice.updated_ms, int(status in _ARCHIVED),
            invoice.number.lower(), body)


def payment_row(payment: ErpPayment, invoice_number: str, contact_id: str, contact_name: str,
                currency: str) -> Row:
    """A world payment as a store row (same body as :func:`sandbox.erp.docs.payment_body`)."""
    status = "DELETED" if payment.archived else payment.status
    amount = amount_text(payment.amount_cents)
    body = (
        f'{{"PaymentID":{_q(payment.record_id)},"Date":"{date_fields(payment.date)[0]}"'
        f',"BankAmount":{amount},"Amount":{amount},"Reference":"","CurrencyRate":1.0'
        f',"PaymentType":"ACCRECPAYMENT","Status":"{status}"'
        f',"UpdatedDateUTC":"/Date({payment.updated_ms}+0000)/","HasAccount":true'
        f',"IsReconciled":false,"HasValidationErrors":false'
        f',"Account":{{"AccountID":"{BANK_ACCOUNT_ID}","Code":"090"}}'
        f',"Invoice":{{"Type":"ACCREC","InvoiceID":{_q(payment.invoice_record_id)}'
        f',"InvoiceNumber":{_q(invoice_number)},"Contact":{{"ContactID":{_q(contact_id)}'
        f',"Name":{_q(contact_name)}}},"CurrencyCode":{_q(currency)}}}}}'
    )
    return (payment.record_id, payment.updated_ms, int(status == "DELETED"),
            payment.invoice_record_id.lower(), body)
