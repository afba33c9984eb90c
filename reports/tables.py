"""A table on a page: its columns, the query behind it, its filters, one page of rows, its CSV.

Counting, filtering, ordering and paging all happen in the warehouse (``COUNT(*)``,
``WHERE``, ``ORDER BY``, ``LIMIT``/``OFFSET``); Python only ever holds one page of rows, and the
CSV export streams the filtered table in batches.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from reports import formats
from reports.db import Reader
from reports.links import Links
from reports.params import Field, Number, Value

PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True)
class Column:
    """A column shown: warehouse key, header, how to format it, where its value links to."""

    key: str
    label: str
    kind: str = "text"  # text | id | int | money | hours | ts | date | bool
    link: str | None = None  # page the value opens, passed as parameter ``param``
    param: str = "id"
    hidden: bool = False  # in the CSV only (the page shows a narrower table)
    labels: Mapping[str, str] | None = None  # words shown for coded values (CSV keeps codes)
    good: bool | None = None  # for a yes/no column: which answer is good (coloured), if any


@dataclass(frozen=True)
class Condition:
    """One ``WHERE`` condition written here, with its bound parameters."""

    sql: str
    params: tuple[Any, ...] = ()


Conditions = Callable[[Mapping[str, Value]], list[Condition]]
# Rows of a small table that is not a warehouse relation (dbt's artifacts, a customer's field
# grid), given the page's Reader, Site and parameters; filtered by equality on its filter
# columns, paged in Python.
ArtifactRows = Callable[[Reader, Any, Mapping[str, Value]], list[tuple[Any, ...]]]


def no_conditions(_: Mapping[str, Value]) -> list[Condition]:
    """A table without filters."""
    return []


@dataclass(frozen=True)
class Table:
    """A named, exportable table: ``source_sql`` selects exactly the ``columns`` keys."""

    name: str
    title: str
    columns: tuple[Column, ...]
    source_sql: str = ""
    order_by: str = ""
    filters: tuple[Field, ...] = ()
    conditions: Conditions = no_conditions
    params: tuple[Any, ...] = ()  # bound parameters of source_sql itself
    artifact: ArtifactRows | None = None  # instead of source_sql: rows from dbt's artifacts
    # A unique column: a deep page of a large table sorts this column alone, then fetches
    # only that page's rows by it (instead of sorting every column of every row).
    key: str = ""

    @property
    def shown(self) -> list[tuple[int, Column]]:
        """The columns the page shows, with their position in a row."""
        return [(i, c) for i, c in enumerate(self.columns) if not c.hidden]

    @property
    def fields(self) -> tuple[Field, ...]:
        """Every URL parameter the table accepts (filters, page, size)."""
        return (*self.filters, Number("page", 1),
                Number("size", DEFAULT_PAGE_SIZE, options=PAGE_SIZES))

    def filter_values(self, values: Mapping[str, Value]) -> dict[str, Value]:
        """The table's filter values (not page/size) out of a page's parsed parameters."""
        names = {f.name for f in self.filters}
        return {k: v for k, v in values.items() if k in names}


def _sql(table: Table, conditions: Sequence[Condition]) -> tuple[str, list[Any]]:
    columns = ", ".join(c.key for c in table.columns)
    where = " and ".join(f"({c.sql})" for c in conditions) or "true"
    params = [*table.params, *(p for c in conditions for p in c.params)]
    return f"select {columns} from ({table.source_sql}) as report_rows where {where}", params


@dataclass
class TableView:
    """One page of a table, ready for the template."""

    table: Table
    rows: list[tuple[Any, ...]]
    total: int
    page: int
    size: int
    filters: dict[str, Value]
    page_links: list[tuple[str, str | None, bool]]  # (label, href, current)
    csv_href: str | None
    links: Links
    paged: bool = True

    @property
    def pages(self) -> int:
        """How many pages the filtered table has (at least one)."""
        return max(1, math.ceil(self.total / self.size))

    @property
    def first_row(self) -> int:
        """1-based number of the first row shown (0 when empty)."""
        return 0 if not self.total else (self.page - 1) * self.size + 1

    def cell_text(self, column: Column, value: Any) -> str:
        """A cell as the page shows it (coded values in words)."""
        if column.labels and value is not None:
            return column.labels.get(str(value), str(value))
        return formats.cell(value, column.kind)

    def cell_href(self, column: Column, value: Any) -> str | None:
        """Where a cell links to (``None`` when the column does not link or the value is empty)."""
        if not column.link or value is None or value == "":
            return None
        return self.links.page(column.link, **{column.param: str(value)})


def page_numbers(page: int, pages: int, around: int = 2) -> list[int | None]:
    """Page numbers to offer: first, last and a window around the current (``None`` = gap).

    >>> page_numbers(1, 3)
    [1, 2, 3]
    >>> page_numbers(10, 40)
    [1, None, 8, 9, 10, 11, 12, None, 40]
    """
    shown = sorted({1, pages, *range(max(1, page - around), min(pages, page + around) + 1)})
    result: list[int | None] = []
    for number in shown:
        if result and number - (result[-1] or 0) > 1:
            result.append(None)
        result.append(number)
    return result


def artifact_rows(reader: Reader, site: Any, table: Table,
                  values: Mapping[str, Value]) -> list[tuple[Any, ...]]:
    """The rows of an artifact table matching its filter values (equality per column)."""
    assert table.artifact is not None
    keys = [c.key for c in table.columns]
    wanted = [(keys.index(k), v) for k, v in table.filter_values(values).items() if k in keys]
    return [row for row in table.artifact(reader, site, values)
            if all(str(row[i]) == str(v) for i, v in wanted)]


def view(reader: Reader, table: Table, values: Mapping[str, Value], links: Links,
         page_name: str, page_params: Mapping[str, Value] | None = None,
         site: Any = None, paged: bool = True) -> TableView:
    """Count the filtered rows and fetch the requested page, both in the warehouse.

    ``page_name``/``page_params`` say which page the table sits on (for its paging links);
    ``site`` is what an artifact table reads its rows with; ``paged=False`` shows the first
    page only (a page with several tables), the rest being in the CSV.
    """
    size = int(values.get("size", DEFAULT_PAGE_SIZE))
    if table.artifact is not None:
        matching = artifact_rows(reader, site, table, values)
        total = len(matching)
        page = min(int(values.get("page", 1)), max(1, math.ceil(total / size)))
        rows = matching[(page - 1) * size:page * size]
    else:
        conditions = table.conditions(values)
        sql, params = _sql(table, conditions)
        page = int(values.get("page", 1))
        rows, total = [], -1
        if conditions:
            # a filtered table: one scan gives the page and, beside each row, the total
            counted = reader.rows(
                f"select *, count(*) over () from ({sql}) as matched "
                f"order by {table.order_by} limit ? offset ?", [*params, size, (page - 1) * size])
            if counted:
                rows, total = [row[:-1] for row in counted], int(counted[0][-1])
            elif page == 1:
                total = 0
        if total < 0:
            total = int(reader.scalar(f"select count(*) from ({sql}) as counted", params))
            page = min(page, max(1, math.ceil(total / size)))
            if table.key and page > 1:
                sql = (f"{sql} and {table.key} in (select {table.key} from ({sql}) as keyed "
                       f"order by {table.order_by} limit ? offset ?)")
                params = [*params, *params, size, (page - 1) * size]
                rows = reader.rows(f"{sql} order by {table.order_by}", params)
            else:
                rows = reader.rows(f"{sql} order by {table.order_by} limit ? offset ?",
                                   [*params, size, (page - 1) * size])
    pages = max(1, math.ceil(total / size))
    filters = table.filter_values(values)
    base = {**(page_params or {}), **filters}
    if size != DEFAULT_PAGE_SIZE:
        base["size"] = size
    page_links: list[tuple[str, str | None, bool]] = []
    if pages > 1 and paged:
        for number in page_numbers(page, pages):
            if number is None:
                page_links.append(("…", None, False))
            else:
                href = links.page(page_name, **{**base, "page": number})
                page_links.append((str(number), href, number == page))
    return TableView(table, rows, total, page, size, filters, page_links,
                     links.csv(table.name, **filters), links, paged)


def csv_value(value: Any) -> str:
    """A cell as CSV text: ISO dates, plain decimals, true/false, empty for NULL.

    >>> csv_value(None), csv_value(True), csv_value(Decimal("1.50")), csv_value(date(2026, 1, 2))
    ('', 'true', '1.50', '2026-01-02')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def csv_lines(reader: Reader, table: Table, values: Mapping[str, Value],
              site: Any = None) -> Iterator[str]:
    """The whole filtered table as CSV text chunks (header first), streamed from the warehouse.

    A cell starting with ``=``, ``+``, ``-`` or ``@`` that is not a plain number is prefixed with
    ``'`` so a spreadsheet never evaluates a value that came from a source system as a formula.
    """
    if table.artifact is not None:
        rows: Iterator[tuple[Any, ...]] = iter(artifact_rows(reader, site, table, values))
    else:
        sql, params = _sql(table, table.conditions(values))
        rows = reader.stream(f"{sql} order by {table.order_by}", params)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.key for c in table.columns])
    batch: list[list[str]] = []
    for row in rows:
        batch.append([csv_cell(v) for v in row])
        if len(batch) == 2000:
            writer.writerows(batch)
            batch = []
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    writer.writerows(batch)
    yield buffer.getvalue()


_FORMULA_START = frozenset("=+-@")


def csv_cell(value: Any) -> str:
    """A cell as it goes into the CSV: :func:`csv_value`, then :func:`_defused` (numbers
    need no defusing, so the common cases skip it).

    >>> csv_cell("=1+2"), csv_cell(Decimal("-3.5")), csv_cell(None), csv_cell("-x")
    ("'=1+2", '-3.5', '', "'-x")
    """
    kind = type(value)
    if kind is str:
        return _defused(value) if value[:1] in _FORMULA_START else value
    if kind is int or kind is Decimal or kind is float:
        return str(value)
    return _defused(csv_value(value))


def _defused(text: str) -> str:
    """A cell a spreadsheet will not run as a formula.

    >>> _defused("=HYPERLINK(1)"), _defused("-12.50"), _defused("+14155550123"), _defused("ok")
    ("'=HYPERLINK(1)", '-12.50', '+14155550123', 'ok')
    """
    if text[:1] in ("=", "+", "-", "@") and not _numeric(text):
        return "'" + text
    return text


def _numeric(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True
