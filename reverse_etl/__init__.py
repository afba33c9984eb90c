"""Reverse ETL: push the ``sync_*`` dbt models back into the CRM, the ERP and the shops.

The flow of one run, in order (``runner.py``): load the sync's YAML spec (``spec.py``) → plan the
diff in the warehouse in SQL (``plan.py``) → guards (``guards.py``) → write through the
destination's batch API (``destinations/``, paced and retried by ``pacing.py``) → commit each
record's state only after the destination confirmed it (``state.py``), with audit rows and dead
letters beside it. Nothing here imports ``pipelines/``, ``orchestration/`` or ``sandbox/``.
"""
