"""The HubSpot CRM v3 emulator: objects, search, batch writes, owners, associations v4, webhooks.

``app.create_app`` serves the vendor paths, ``seed.seed`` renders the world's CRM records into the
store, ``mutate.mutate`` makes realistic changes and sends signed webhooks.
"""
