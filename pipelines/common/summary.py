"""What an extract did, per table and per system: JSON for scripts, a text table for people."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class SchemaChange:
    """One column or table that appeared or changed type in a load."""

    load_id: str
    table_name: str
    column_name: str | None
    change: str  # new_table | new_column | type_changed
    data_type: str | None
    detected_at: str

    def warning(self, system: str) -> str:
        """A one-line warning for the run summary.

        >>> SchemaChange("1", "contacts", "phone", "type_changed", "json", "t").warning("crm")
        'schema drift in raw_crm.contacts: phone type_changed (json)'
        """
        where = f"raw_{system}.{self.table_name}"
        what = f"{self.column_name} {self.change}" if self.column_name else self.change
        return f"schema drift in {where}: {what}" + (f" ({self.data_type})" if self.data_type
                                                     else "")


@dataclass
class TableSummary:
    """Rows of one raw table touched by a run."""

    table: str
    rows_loaded: int = 0
    rows_updated: int | None = None
    rows_flagged_deleted: int = 0
    rows_total: int | None = None


@dataclass
class SystemSummary:
    """One system's extract: tables, HTTP budget used, schema changes, wall time."""

    system: str
    tables: list[TableSummary] = field(default_factory=list)
    requests: int = 0
    retries: int = 0
    throttled: int = 0
    schema_changes: list[SchemaChange] = field(default_factory=list)
    seconds: float = 0.0
    load_ids: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # other warnings (e.g. keys stored twice)

    @property
    def rows_loaded(self) -> int:
        """All rows loaded in this run, over every table."""
        return sum(t.rows_loaded for t in self.tables)

    @property
    def warnings(self) -> list[str]:
        """One line per schema change, then the other warnings."""
        return [change.warning(self.system) for change in self.schema_changes] + self.notes

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (``--json``).

        >>> SystemSummary("hr", [TableSummary("employees", 3)]).to_dict()["rows_loaded"]
        3
        """
        data = asdict(self)
        data["rows_loaded"] = self.rows_loaded
        data["warnings"] = self.warnings
        return data


def render_text(summaries: list[SystemSummary]) -> str:
    """A plain-text table of every system's tables, then the budget lines and warnings.

    >>> print(render_text([SystemSummary("hr", [TableSummary("employees", 3, 1, 0, 3)],
    ...                                  requests=2, seconds=0.5)]))
    system  table      loaded  updated  deleted  total
    hr      employees       3        1        0      3
    hr: 2 requests, 0 retries, 0 throttled, 0 schema changes, 0.5 s
    """
    header = ("system", "table", "loaded", "updated", "deleted", "total")
    rows: list[tuple[str, ...]] = []
    for summary in summaries:
        for table in summary.tables:
            rows.append((summary.system, table.table, str(table.rows_loaded),
                         "-" if table.rows_updated is None else str(table.rows_updated),
                         str(table.rows_flagged_deleted),
                         "-" if table.rows_total is None else str(table.rows_total)))
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        left = [cells[i].ljust(widths[i]) for i in range(2)]
        right = [cells[i].rjust(widths[i]) for i in range(2, len(cells))]
        return "  ".join(left + right).rstrip()

    out = [line(header), *(line(r) for r in rows)]
    for summary in summaries:
        out.append(f"{summary.system}: {summary.requests} requests, {summary.retries} retries, "
                   f"{summary.throttled} throttled, {len(summary.schema_changes)} schema changes, "
                   f"{summary.seconds:.1f} s")
        out.extend(f"WARNING: {w}" for w in summary.warnings)
    return "\n".join(out)
