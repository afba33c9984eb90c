"""What every goldloop connector shares: destination, pacing, lag windows, drift, summaries.

- ``destination``: ``make_pipeline(system, settings)``, raw_<system> in the warehouse.
- ``pacing``: ``paced_session(system)``, a retrying session at the published rate.
- ``incremental``: lag windows without loading the same record twice.
- ``deletes``: the soft-delete flag every main table carries.
- ``drift``: schema changes recorded in ``raw_<system>._goldloop_schema_changes``.
- ``summary``: per-table and per-system run summaries (JSON and text).
- ``failures``: HTTP/dlt failures turned into :class:`goldloop.errors.SourceError`.
"""
