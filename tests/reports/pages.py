"""Read figures back out of a rendered page: tiles, table totals, table cells, notices."""

from __future__ import annotations

import re
from html import escape, unescape
from html.parser import HTMLParser


class _Cells(HTMLParser):
    """Collects the text of every ``<td data-col>`` of one table's body, row by row."""

    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id = table_id
        self.inside = 0
        self.rows: list[dict[str, str]] = []
        self.column: str | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table" and found.get("id") == self.table_id:
            self.inside = 1
        elif self.inside and tag == "tr" and "data-row" in found:
            self.rows.append({})
        elif self.inside and tag == "td" and found.get("data-col"):
            self.column, self.text = found["data-col"], []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self.column is not None and self.rows:
            self.rows[-1][self.column] = "".join(self.text).strip()
            self.column = None
        elif tag == "table" and self.inside:
            self.inside = 0

    def handle_data(self, data: str) -> None:
        if self.column is not None:
            self.text.append(data)


def table_rows(html: str, table: str) -> list[dict[str, str]]:
    """The shown cells of table ``table`` (its ``t-<name>`` id), one dict per row."""
    parser = _Cells(f"t-{table}")
    parser.feed(html)
    return parser.rows


def table_total(html: str, table: str) -> int:
    """The row count a table reports (all pages), from its header."""
    start = html.index(f'id="t-{table}"')
    counts = re.findall(r'data-count="(\d+)"', html[:start])
    return int(counts[-1])


def tile(html: str, label: str) -> str:
    """The big value of the tile called ``label``."""
    match = re.search(r'data-tile="' + re.escape(escape(label)) + r'">.*?<div class="value">'
                      r'(.*?)</div>', html, re.S)
    assert match, f"no tile {label!r}"
    return unescape(re.sub(r"<.*?>", "", match.group(1))).strip()


def number(text: str) -> int:
    """A displayed whole number as an int ("1,031" -> 1031).

    >>> number("1,031")
    1031
    """
    return int(text.replace(",", ""))


def notices(html: str) -> list[str]:
    """The notices a page shows (ignored filters and the like)."""
    return [unescape(n).strip() for n in re.findall(r'<div class="notice"[^>]*>(.*?)</div>',
                                                     html, re.S)]


def money(text: str) -> str:
    """A displayed amount without currency and separators ("USD 1,743.80" -> "1743.80").

    >>> money("USD 1,743.80")
    '1743.80'
    """
    return text.split()[-1].replace(",", "")
