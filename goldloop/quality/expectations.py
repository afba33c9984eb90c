"""The suites' checks as Great Expectations objects, and the ephemeral context that runs them.

Great Expectations is imported here, inside functions: importing it takes seconds, and only a
quality run needs it. Nothing is written to disk: the context is ephemeral, its stores in
memory, analytics and progress bars off.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from goldloop.quality.suites import EMAIL_REGEX, Expect, Suite

CHECK_META = "goldloop_check"  # the check's name, carried in each expectation's meta


def ephemeral_context() -> Any:
    """A Great Expectations context that lives in memory only (no ``gx/`` folder anywhere)."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def to_expectation(suite: Suite, check: Expect) -> Any:
    """The Great Expectations expectation of one check, tagged with its name and severity."""
    from great_expectations import expectations as gxe

    common: dict[str, Any] = {
        "meta": {CHECK_META: check.name},
        "severity": "critical" if suite.severity_of(check) == "blocking" else "warning",
        "description": check.description,
    }
    column = check.columns[0]
    if check.kind == "not_null":
        return gxe.ExpectColumnValuesToNotBeNull(column=column, **common)
    if check.kind == "unique":
        return gxe.ExpectColumnValuesToBeUnique(column=column, **common)
    if check.kind == "unique_together":
        return gxe.ExpectCompoundColumnsToBeUnique(
            column_list=list(check.columns), ignore_row_if="any_value_is_missing", **common)
    if check.kind == "in_set":
        return gxe.ExpectColumnValuesToBeInSet(column=column, value_set=list(check.values),
                                               **common)
    if check.kind == "email_format":
        return gxe.ExpectColumnValuesToMatchRegex(column=column, regex=EMAIL_REGEX, **common)
    if check.kind == "non_negative":
        return gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0, **common)
    raise ValueError(f"unknown check kind {check.kind!r}")


def to_gx_suite(suite: Suite, checks: Sequence[Expect], part: str = "") -> Any:
    """A Great Expectations suite of ``checks`` (some or all of ``suite``'s)."""
    import great_expectations as gx

    return gx.ExpectationSuite(name=f"{suite.name}{part}",
                               expectations=[to_expectation(suite, c) for c in checks])
