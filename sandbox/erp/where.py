"""The subset of Xero's ``where`` and ``order`` query language the emulator understands, as SQL.

Xero filters with a C#-like expression (``ContactStatus=="ACTIVE" AND EmailAddress=="a@b.com"``).
Supported here: ``==`` / ``=`` / ``!=`` on text, GUID, boolean and ``null``; ``< <= > >=`` on
numbers, dates (``DateTime(2024,1,31)``) and ``UpdatedDateUTC``; ``.Contains("x")``,
``.StartsWith("x")``, ``.EndsWith("x")`` (``.ToLower()``/``.ToUpper()`` are accepted and ignored:
text comparisons are case-insensitive, as in Xero); ``AND``/``&&``, ``OR``/``||``, ``NOT``/``!``
and parentheses. Anything else raises :class:`WhereError` naming the clause.

>>> sql, params = compile_where('ContactStatus=="ACTIVE" && Name=="Ann Lee"', "contacts")
>>> sql
"(lower(json_extract(body, '$.ContactStatus')) = lower(?) AND key = ?)"
>>> params
['ACTIVE', 'ann lee']
>>> compile_order("UpdatedDateUTC DESC", "contacts")
[('updated_ms', True)]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sandbox.erp.dates import to_ms

Kind = Literal["id", "key", "text", "bool", "number", "time", "date"]


class WhereError(ValueError):
    """A ``where`` or ``order`` the emulator cannot (or Xero would not) evaluate."""


@dataclass(frozen=True)
class Field:
    """How one Xero field is reached in SQL, and what it holds."""

    expr: str
    kind: Kind


def json_text(path: str) -> str:
    """The case-insensitive SQL expression of a JSON text field (also used by the indexes).

    >>> json_text("$.EmailAddress")
    "lower(json_extract(body, '$.EmailAddress'))"
    """
    return f"lower({json_value(path)})"


def json_value(path: str) -> str:
    """The raw SQL expression of a JSON field."""
    return f"json_extract(body, '{path}')"


def _text(path: str) -> Field:
    return Field(json_value(path), "text")


ID, KEY, UPDATED = "id", "key", "updated_ms"

FIELDS: dict[str, dict[str, Field]] = {
    "contacts": {
        "ContactID": Field(ID, "id"),
        "ContactNumber": _text("$.ContactNumber"),
        "AccountNumber": _text("$.AccountNumber"),
        "ContactStatus": _text("$.ContactStatus"),
        "Name": Field(KEY, "key"),
        "FirstName": _text("$.FirstName"),
        "LastName": _text("$.LastName"),
        "EmailAddress": _text("$.EmailAddress"),
        "CompanyNumber": _text("$.CompanyNumber"),
        "TaxNumber": _text("$.TaxNumber"),
        "DefaultCurrency": _text("$.DefaultCurrency"),
        "IsCustomer": Field(json_value("$.IsCustomer"), "bool"),
        "IsSupplier": Field(json_value("$.IsSupplier"), "bool"),
        "UpdatedDateUTC": Field(UPDATED, "time"),
    },
    "invoices": {
        "InvoiceID": Field(ID, "id"),
        "InvoiceNumber": Field(KEY, "key"),
        "Type": _text("$.Type"),
        "Status": _text("$.Status"),
        "Reference": _text("$.Reference"),
        "CurrencyCode": _text("$.CurrencyCode"),
        "Contact.ContactID": _text("$.Contact.ContactID"),
        "Contact.Name": _text("$.Contact.Name"),
        "Date": Field(json_value("$.DateString"), "date"),
        "DueDate": Field(json_value("$.DueDateString"), "date"),
        "SubTotal": Field(json_value("$.SubTotal"), "number"),
        "Total": Field(json_value("$.Total"), "number"),
        "AmountDue": Field(json_value("$.AmountDue"), "number"),
        "AmountPaid": Field(json_value("$.AmountPaid"), "number"),
        "AmountCredited": Field(json_value("$.AmountCredited"), "number"),
        "UpdatedDateUTC": Field(UPDATED, "time"),
    },
    "payments": {
        "PaymentID": Field(ID, "id"),
        "Status": _text("$.Status"),
        "PaymentType": _text("$.PaymentType"),
        "Reference": _text("$.Reference"),
        "Invoice.InvoiceID": Field(KEY, "key"),
        "Invoice.InvoiceNumber": _text("$.Invoice.InvoiceNumber"),
        "Amount": Field(json_value("$.Amount"), "number"),
        "UpdatedDateUTC": Field(UPDATED, "time"),
    },
    "items": {
        "ItemID": Field(ID, "id"),
        "Code": Field(KEY, "key"),
        "Name": _text("$.Name"),
        "Description": _text("$.Description"),
        "IsSold": Field(json_value("$.IsSold"), "bool"),
        "IsPurchased": Field(json_value("$.IsPurchased"), "bool"),
        "UpdatedDateUTC": Field(UPDATED, "time"),
    },
    "credit_notes": {
        "CreditNoteID": Field(ID, "id"),
        "CreditNoteNumber": Field(KEY, "key"),
        "Type": _text("$.Type"),
        "Status": _text("$.Status"),
        "Reference": _text("$.Reference"),
        "Contact.ContactID": _text("$.Contact.ContactID"),
        "Contact.Name": _text("$.Contact.Name"),
        "Date": Field(json_value("$.DateString"), "date"),
        "Total": Field(json_value("$.Total"), "number"),
        "UpdatedDateUTC": Field(UPDATED, "time"),
    },
}

TYPE_NAMES = {
    "contacts": "Contact", "invoices": "Invoice", "payments": "Payment", "items": "Item",
    "credit_notes": "CreditNote",
}

_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.|"")*")|(?P<num>-?\d+(?:\.\d+)?)|(?P<name>[A-Za-z_]\w*)'
    r"|(?P<op>==|!=|<=|>=|&&|\|\||[<>=!(),.]))"
)
_METHODS = {"contains", "startswith", "endswith"}
_NOOP_METHODS = {"tolower", "toupper", "tostring", "trim"}


@dataclass(frozen=True)
class _Tok:
    kind: str  # str | num | name | op | end
    text: str
    pos: int


def _tokens(where: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(where):
        if where[pos:].strip() == "":
            break
        match = _TOKEN.match(where, pos)
        if not match or match.end() == pos:
            raise WhereError(f"Syntax error in where clause {where!r} at position {pos}: "
                             f"unexpected {where[pos:pos + 10]!r}")
        kind = match.lastgroup or "op"
        out.append(_Tok(kind, match.group(kind), match.start(kind)))
        pos = match.end()
    out.append(_Tok("end", "", len(where)))
    return out


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r'\\(.)|""', lambda m: m.group(1) if m.group(1) is not None else '"', body)


class _Parser:
    """Recursive descent over the tokens, emitting SQL and parameters."""

    def __init__(self, where: str, obj: str) -> None:
        self.where = where
        self.obj = obj
        self.fields = {name.lower(): (name, f) for name, f in FIELDS[obj].items()}
        self.toks = _tokens(where)
        self.i = 0
        self.params: list[Any] = []

    # -- helpers ---------------------------------------------------------------------------
    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def fail(self, what: str, tok: _Tok | None = None) -> WhereError:
        tok = tok or self.peek()
        return WhereError(f"Syntax error in where clause {self.where!r} at position {tok.pos}: "
                          f"{what}")

    def expect(self, text: str) -> None:
        tok = self.take()
        if tok.text != text:
            raise self.fail(f"expected {text!r}, found {tok.text or 'end of clause'!r}", tok)

    def word(self, *words: str) -> bool:
        tok = self.peek()
        return tok.kind in {"name", "op"} and tok.text.upper() in words

    # -- grammar ---------------------------------------------------------------------------
    def parse(self) -> str:
        sql = self.expr()
        if self.peek().kind != "end":
            raise self.fail(f"unexpected {self.peek().text!r}")
        return sql

    def expr(self) -> str:
        parts = [self.term()]
        while self.word("OR", "||"):
            self.take()
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def term(self) -> str:
        parts = [self.factor()]
        while self.word("AND", "&&"):
            self.take()
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"

    def factor(self) -> str:
        if self.word("NOT", "!"):
            self.take()
            return f"NOT ({self.factor()})"
        if self.peek().text == "(":
            self.take()
            inner = self.expr()
            self.expect(")")
            return inner
        return self.comparison()

    def comparison(self) -> str:
        start = self.peek()
        if start.kind != "name":
            raise self.fail(f"expected a field name, found {start.text or 'end of clause'!r}")
        path = [self.take().text]
        method: str | None = None
        while self.peek().text == ".":
            self.take()
            tok = self.take()
            if tok.kind != "name":
                raise self.fail("expected a name after '.'", tok)
            if self.peek().text == "(":
                lowered = tok.text.lower()
                if lowered in _NOOP_METHODS:
                    self.take()
                    self.expect(")")
                    continue
                if lowered in _METHODS:
                    method = lowered
                    break
                raise WhereError(f"Method '{tok.text}' in where clause {self.where!r} is not "
                                 "supported (use ==, !=, Contains, StartsWith or EndsWith)")
            path.append(tok.text)
        name, field = self.field(".".join(path))
        if method is not None:
            self.expect("(")
            value = self.literal()
            self.expect(")")
            return self.like(name, field, method, value)
        op = self.take()
        if op.text not in {"==", "=", "!=", "<", "<=", ">", ">="}:
            raise self.fail(f"expected a comparison after {name!r}, found {op.text!r}", op)
        return self.compare(name, field, "==" if op.text == "=" else op.text, self.literal())

    def field(self, dotted: str) -> tuple[str, Field]:
        found = self.fields.get(dotted.lower())
        if found is None:
            raise WhereError(f"No property or field '{dotted}' exists in type "
                             f"'{TYPE_NAMES[self.obj]}' (where clause {self.where!r})")
        return found

    def literal(self) -> Any:
        tok = self.take()
        if tok.kind == "str":
            return _unquote(tok.text)
        if tok.kind == "num":
            return float(tok.text) if "." in tok.text else int(tok.text)
        if tok.kind == "name":
            lowered = tok.text.lower()
            if lowered in {"true", "false"}:
                return lowered == "true"
            if lowered == "null":
                return None
            if lowered == "guid":
                self.expect("(")
                value = self.literal()
                self.expect(")")
                if not isinstance(value, str):
                    raise self.fail("Guid() takes a quoted GUID", tok)
                return value
            if lowered == "datetime":
                return self.datetime_literal(tok)
        raise self.fail(f"expected a value, found {tok.text or 'end of clause'!r}", tok)

    def datetime_literal(self, tok: _Tok) -> datetime:
        self.expect("(")
        parts: list[int] = []
        while True:
            value = self.literal()
            if isinstance(value, str) and not parts:
                self.expect(")")
                return datetime.fromisoformat(value.replace("Z", "+00:00"))
            if not isinstance(value, int):
                raise self.fail("DateTime() takes integers: DateTime(2024, 1, 31)", tok)
            parts.append(value)
            if self.peek().text == ",":
                self.take()
                continue
            self.expect(")")
            break
        try:
            return datetime(*parts)  # type: ignore[arg-type, misc]
        except (TypeError, ValueError) as exc:
            raise self.fail(f"invalid DateTime: {exc}", tok) from exc

    # -- SQL -------------------------------------------------------------------------------
    def compare(self, name: str, field: Field, op: str, value: Any) -> str:
        sql_op = {"==": "=", "!=": "!="}.get(op, op)
        if value is None:
            if op not in {"==", "!="}:
                raise WhereError(f"Operator '{op}' cannot compare '{name}' with null")
            return f"{field.expr} IS {'NOT ' if op == '!=' else ''}NULL"
        kind = field.kind
        if kind in {"text", "key", "id"}:
            if not isinstance(value, str):
                raise WhereError(f"Operator '{op}' incompatible with operand types '{name}' "
                                 f"(String) and {type(value).__name__} in {self.where!r}")
            if op not in {"==", "!="}:
                raise WhereError(f"Operator '{op}' is not supported on text field '{name}'")
            if kind == "text":
                self.params.append(value)
                return f"lower({field.expr}) {sql_op} lower(?)"
            self.params.append(value.lower())
            return f"{field.expr} {sql_op} ?"
        if kind == "bool":
            if not isinstance(value, bool) or op not in {"==", "!="}:
                raise WhereError(f"Operator '{op}' incompatible with operand types 'Boolean' "
                                 f"and {type(value).__name__} for '{name}'")
            self.params.append(int(value))
            return f"{field.expr} {sql_op} ?"
        if kind == "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise WhereError(f"'{name}' is a number: compare it with a number")
            self.params.append(value)
            return f"{field.expr} {sql_op} ?"
        if kind == "time":
            self.params.append(_as_ms(name, value))
            return f"{field.expr} {sql_op} ?"
        # date: compared through its DateString twin (ISO text sorts like dates)
        self.params.append(_as_datestring(name, value))
        return f"{field.expr} {sql_op} ?"

    def like(self, name: str, field: Field, method: str, value: Any) -> str:
        if field.kind not in {"text", "key", "id"} or not isinstance(value, str):
            raise WhereError(f"'{name}' does not support {method} with this value")
        escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = {"contains": f"%{escaped}%", "startswith": f"{escaped}%",
                   "endswith": f"%{escaped}"}[method]
        if field.kind == "text":
            self.params.append(pattern)
            return f"lower({field.expr}) LIKE lower(?) ESCAPE '\\'"
        self.params.append(pattern.lower())
        return f"{field.expr} LIKE ? ESCAPE '\\'"


def _as_ms(name: str, value: Any) -> int:
    if isinstance(value, datetime):
        return to_ms(value)
    if isinstance(value, str):
        try:
            return to_ms(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError as exc:
            raise WhereError(f"'{name}' needs a DateTime(...) value, not {value!r}") from exc
    raise WhereError(f"'{name}' needs a DateTime(...) value, not {value!r}")


def _as_datestring(name: str, value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).strftime("%Y-%m-%dT%H:%M:%S")
        except ValueError as exc:
            raise WhereError(f"'{name}' needs a DateTime(...) value, not {value!r}") from exc
    raise WhereError(f"'{name}' needs a DateTime(...) value, not {value!r}")


def compile_where(where: str, obj: str) -> tuple[str, list[Any]]:
    """SQL (over the store's columns and JSON body) and parameters for a ``where`` clause.

    >>> compile_where('Status=="AUTHORISED" AND Type=="ACCREC"', "invoices")[1]
    ['AUTHORISED', 'ACCREC']
    >>> sql, params = compile_where('Total >= 10.5 || Contact.Name.Contains("a_n")', "invoices")
    >>> sql.replace("json_extract(body, ", "JX(")
    "(JX('$.Total') >= ? OR lower(JX('$.Contact.Name')) LIKE lower(?) ESCAPE '\\\\')"
    >>> params
    [10.5, '%a\\\\_n%']
    >>> compile_where('Colour=="red"', "contacts")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sandbox.erp.where.WhereError: No property or field 'Colour' exists in type 'Contact' (...)
    """
    if obj not in FIELDS:
        raise WhereError(f"where is not supported on {obj}")
    if not where.strip():
        return "1=1", []
    parser = _Parser(where, obj)
    sql = parser.parse()
    return sql, parser.params


def compile_order(order: str, obj: str) -> list[tuple[str, bool]]:
    """``[(sql expression, descending)]`` for an ``order`` such as ``"Name ASC, UpdatedDateUTC"``.

    >>> compile_order("Name", "contacts"), compile_order("InvoiceNumber desc", "invoices")
    ([('key', False)], [('key', True)])
    >>> compile_order("Name SIDEWAYS", "contacts")
    Traceback (most recent call last):
    ...
    sandbox.erp.where.WhereError: Invalid order 'Name SIDEWAYS': use 'Field ASC' or 'Field DESC'
    """
    fields = {name.lower(): f for name, f in FIELDS[obj].items()}
    out: list[tuple[str, bool]] = []
    for part in (p.strip() for p in order.split(",")):
        if not part:
            continue
        words = part.split()
        if len(words) > 2 or (len(words) == 2 and words[1].upper() not in {"ASC", "DESC"}):
            raise WhereError(f"Invalid order {order!r}: use 'Field ASC' or 'Field DESC'")
        field = fields.get(words[0].lower())
        if field is None:
            raise WhereError(f"No property or field '{words[0]}' exists in type "
                             f"'{TYPE_NAMES[obj]}' (order {order!r})")
        out.append((field.expr, len(words) == 2 and words[1].upper() == "DESC"))
    return out
