"""``quality.check_results``: one row per check per run, appended, so history accumulates.

Columns: ``model_name, check_name, source ('dbt' | 'gx'), severity ('blocking' | 'warn'),
status ('pass' | 'fail' | 'warn' | 'error'), failing_rows, checked_at (naive UTC), run_id,
message``. Reverse ETL's guards read the latest result of each check of a model; the report's
data-quality page draws the history.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from goldloop.settings import Settings, Target
from goldloop.warehouse import connect

SCHEMA = "quality"
TABLE = "check_results"
RELATION = f"{SCHEMA}.{TABLE}"

Source = Literal["dbt", "gx"]
Status = Literal["pass", "fail", "warn", "error"]
STATUSES: tuple[Status, ...] = ("pass", "fail", "warn", "error")

# column → SQL type, in table order (the same on DuckDB and Postgres)
COLUMNS: dict[str, str] = {
    "model_name": "VARCHAR",
    "check_name": "VARCHAR",
    "source": "VARCHAR",
    "severity": "VARCHAR",
    "status": "VARCHAR",
    "failing_rows": "BIGINT",
    "checked_at": "TIMESTAMP",
    "run_id": "VARCHAR",
    "message": "VARCHAR",
}
INSERT_CHUNK = 200


@dataclass(frozen=True)
class CheckOutcome:
    """One check's result in one run, as recorded."""

    model_name: str
    check_name: str
    source: Source
    severity: Literal["blocking", "warn"]
    status: Status
    failing_rows: int | None
    checked_at: datetime
    run_id: str
    message: str | None = None

    @property
    def blocks(self) -> bool:
        """Whether this result stops what reads the model (a blocking check failed or errored).

        >>> CheckOutcome("m", "c", "gx", "blocking", "error", None, utc_now(), "r").blocks
        True
        """
        return self.severity == "blocking" and self.status in ("fail", "error")

    def row(self) -> tuple[Any, ...]:
        """The values in :data:`COLUMNS` order."""
        values = asdict(self)
        return tuple(values[column] for column in COLUMNS)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the columns, ``checked_at`` as ISO text."""
        return {**asdict(self), "checked_at": self.checked_at.isoformat(sep=" ")}


def utc_now() -> datetime:
    """Now as naive UTC, the warehouse's convention."""
    return datetime.now(UTC).replace(tzinfo=None)


def mark(target: Target) -> str:
    """The bind marker: ``?`` on DuckDB, ``%s`` on psycopg2.

    >>> mark("duckdb"), mark("postgres")
    ('?', '%s')
    """
    return "?" if target == "duckdb" else "%s"


def placeholders(target: Target, count: int) -> str:
    """``count`` bind markers for one row.

    >>> placeholders("duckdb", 2), placeholders("postgres", 2)
    ('(?, ?)', '(%s, %s)')
    """
    return "(" + ", ".join([mark(target)] * count) + ")"


def cursor(con: Any, target: Target) -> Any:
    """What runs statements: the DuckDB connection itself (a DuckDB cursor is another
    connection with its own transaction), a psycopg2 cursor on Postgres."""
    return con if target == "duckdb" else con.cursor()


def ensure_table(con: Any, target: Target) -> None:
    """Create ``quality.check_results`` (or add the columns an older one lacks)."""
    cur = cursor(con, target)
    cur.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    columns = ", ".join(f"{name} {kind}" for name, kind in COLUMNS.items())
    cur.execute(f"CREATE TABLE IF NOT EXISTS {RELATION} ({columns})")
    cur.execute("SELECT column_name FROM information_schema.columns "
                f"WHERE table_schema = '{SCHEMA}' AND table_name = '{TABLE}'")
    present = {str(row[0]) for row in cur.fetchall()}
    for name, kind in COLUMNS.items():
        if name not in present:
            cur.execute(f"ALTER TABLE {RELATION} ADD COLUMN {name} {kind}")


def insert(con: Any, target: Target, outcomes: Sequence[CheckOutcome]) -> int:
    """Append ``outcomes`` on an open connection; returns the rows written."""
    if not outcomes:
        return 0
    ensure_table(con, target)
    cur = cursor(con, target)
    names = ", ".join(COLUMNS)
    row_marks = placeholders(target, len(COLUMNS))
    for start in range(0, len(outcomes), INSERT_CHUNK):
        part = outcomes[start:start + INSERT_CHUNK]
        cur.execute(f"INSERT INTO {RELATION} ({names}) VALUES "
                    + ", ".join(row_marks for _ in part),
                    tuple(value for outcome in part for value in outcome.row()))
    return len(outcomes)


def record(settings: Settings, outcomes: Iterable[CheckOutcome]) -> int:
    """Append ``outcomes`` to ``quality.check_results`` on the configured warehouse."""
    materialised = list(outcomes)
    if not materialised:
        return 0
    with connect(settings) as con:
        return insert(con, settings.target, materialised)


def run_recorded(con: Any, target: Target, source: Source, run_id: str) -> bool:
    """Whether results of ``run_id`` from ``source`` are in the table already."""
    cur = cursor(con, target)
    cur.execute("SELECT count(*) FROM information_schema.tables "
                f"WHERE table_schema = '{SCHEMA}' AND table_name = '{TABLE}'")
    if not cur.fetchone()[0]:
        return False
    cur.execute(f"SELECT count(*) FROM {RELATION} WHERE source = {mark(target)} "
                f"AND run_id = {mark(target)}", (source, run_id))
    return bool(cur.fetchone()[0])
