"""Signed webhooks → the inbox: HubSpot v3 (crm), Shopify (shop) and Xero (erp).

The receiver verifies, stores and acknowledges; it never processes an event. The inbox sensor in
``orchestration.sensors`` drains the inbox into incremental runs. No Dagster import here.
"""
