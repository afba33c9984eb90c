"""Data quality: Great Expectations suites on the golden marts and the sync feeds, and a recorded
history of every check result (the suites' and dbt's) in ``quality.check_results``.

- :mod:`goldloop.quality.suites`: the suites, as code (one per model, a severity per check);
- :mod:`goldloop.quality.validate`: one suite on the warehouse through Great Expectations
  (DuckDB: pandas batches read in chunks; Postgres: GX's SQL datasource);
- :mod:`goldloop.quality.results`: the results table, appended to;
- :mod:`goldloop.quality.dbt_results`: dbt's ``run_results.json`` as check results;
- :mod:`goldloop.quality.run`: :func:`~goldloop.quality.run.run_suites`, what the CLI and
  Dagster call.

Reverse ETL reads the table (``reverse_etl.guards``): the latest result of a ``blocking`` check
with status ``fail`` (or ``error``) stops every sync that reads that model.
"""

from __future__ import annotations
