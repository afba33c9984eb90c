"""Extract and load: one dlt source package per system (``crm``, ``erp``, ``shop``, ``hr``).

Each ``pipelines/<system>/__init__.py`` holds a ``@dlt.source(name="<system>")`` function named
``source`` (taking an optional ``start``/``end`` window) and its resources; ``pipelines.common``
holds what they share; :func:`pipelines.run.extract` runs them into ``raw_<system>`` datasets.
The product never imports ``sandbox``: the same connectors run against the real vendors by base URL
and credentials (dlt config ``sources.<system>.*``).
"""
