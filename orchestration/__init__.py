"""goldloop's Dagster code location: wires extract, model, quality and activate together.

Owns no business logic: assets call :mod:`pipelines.run`, :mod:`goldloop.dbt`'s project and
(when present) :mod:`reverse_etl`. ``orchestration.definitions`` is the code location;
``orchestration.webhooks`` is the signed-webhook receiver (no Dagster import).
"""
