"""The ``erp`` emulator: Xero Accounting API 2.0 (Contacts, Invoices, Payments, Items, CreditNotes).

``app.create_app`` serves it, ``seed.seed`` renders ``world.erp`` into the store, ``mutate.mutate``
changes it and sends Xero webhooks. Contract: ../shared/specs/xero/xero_accounting.yaml.
"""
