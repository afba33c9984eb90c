"""The business users' site: reconciliation, customers, data quality, compliance, sync health,
metrics and the data dictionary, read from the warehouse (never from ``pipelines/`` or
``reverse_etl/``).

``goldloop report serve`` renders each page on request (127.0.0.1:8780 by default; any other
address needs ``GOLDLOOP_REPORT_TOKEN``; ``--background`` detaches it, ``goldloop report stop``
stops it); ``goldloop report build --out DIR`` writes the same pages as files that open from
disk. See ``reports/README.md``.
"""
