"""Emulator of the Shopify Admin REST API (2021-10) for several shops.

``app`` serves the API, ``seed`` renders the world's shops into the store, ``mutate`` changes
them (with webhooks). Helpers: ``render`` (world records → stored JSON), ``views`` (stored →
served JSON), ``resources`` (store layout), ``filters`` (list filters), ``paging`` (Link-header
cursors), ``bucket`` (leaky-bucket rate limit), ``customers`` (write validation), ``errors``
(Shopify's error answers), ``webhooks`` (signed deliveries), ``bulk`` (fast transactional
writes), ``shops`` (fixed facts: tables, time zones, id spaces).
"""
