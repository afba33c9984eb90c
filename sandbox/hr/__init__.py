"""The BambooHR emulator: employees served the way BambooHR's public API serves them.

Vendor → sandbox mapping (spec: ``tests/contract/specs/bamboohr/public.yaml``, OpenAPI 3.1, whose
server is ``https://{companyDomain}.bamboohr.com`` and whose paths start with ``/api/v1``):

==========================================================  ====================================
vendor                                                      sandbox (``http://127.0.0.1:18104``)
==========================================================  ====================================
``https://{companyDomain}.bamboohr.com/api/v1/...``         ``/api/v1/...`` (``base_url("hr")``)
``https://{companyDomain}.bamboohr.com/api/v2/...``         ``/api/v2/...`` (same host root)
``https://api.bamboohr.com/api/gateway.php/{domain}/v1/``   ``/api/gateway.php/goldloop/v1/...``
==========================================================  ====================================

Endpoints (all in :mod:`sandbox.hr.app`):

- ``GET  /api/v1/employees/directory`` active, current employees with a ``fields`` fieldset.
- ``GET  /api/v1/employees`` cursor list: ``page[limit]`` (1..2500, default 250),
  ``page[after]`` / ``page[before]`` (opaque cursors from ``meta.page.nextCursor`` /
  ``prevCursor``), ``filter[...]``, ``sort``, ``fields`` (names outside the spec's
  ``EmployeeOptionalField`` list are ignored).
- ``GET  /api/v1/employees/{id}?fields=a,b`` unknown field names are ignored (omitted), as the
  list endpoint documents; more than 400 names → 400; unknown or deleted id → 404.
- ``GET  /api/v1/employees/changed?since=ISO&type=...`` changes strictly after ``since``;
  ``latest`` is the newest ``lastChanged`` returned (``since`` echoed back when nothing changed).
  Every write gets a unique, increasing millisecond stamp, so ``since=<latest>`` never loses or
  repeats a change. ``lastChanged`` carries milliseconds when they are not zero.
- ``POST /api/v2/datasets/employee/data`` bulk pulls: ``fields``, OData ``filter``, ``orderBy``,
  ``page``/``pageSize`` (≤ 1000); values are strings or null. ``GET /api/v1_2/datasets`` and
  ``GET /api/v1_2/datasets/employee/fields`` describe it.
- ``POST /api/v1/employees/{id}`` update (200, no body); ``POST /api/v1/employees`` create
  (201 + ``Location``). Wrong JSON or types → 400, invalid values (date, status, duplicate
  work email, unknown supervisor) → 409; nothing changes on an error.

Auth is HTTP Basic with ``credentials.hr_api_key`` as user name and any password (401 otherwise).
Errors carry ``X-BambooHR-Error-Message`` and a JSON body: ``{"error": {"code", "message"}}``
on ``/api/v1`` paths, RFC 7807 problem JSON on ``/api/v1_2`` and ``/api/v2`` paths. Only JSON is
served: an ``Accept`` header that excludes JSON gets 406 (BambooHR itself would answer XML).

Throttling (``limits.hr_per_second``, a sliding one-second window; off when ``limits.enabled`` is
False) answers 429 with ``Retry-After`` by default: BambooHR answered 503 until 2026-09-16 and 429
since. ``POST /_sandbox/hr/throttle {"status": 503|429|"alternate"}`` picks the answer.
BambooHR webhooks are not emulated: connectors poll ``employees/changed``.
"""
