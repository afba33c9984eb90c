"""The HubSpot objects goldloop extracts, with the properties the golden model needs.

HubSpot returns only the properties a request names; each list below is what the staging models
read plus the object's cursor (``lastmodifieddate`` for contacts, ``hs_lastmodifieddate`` for the
others). Associations are read with the v4 batch API for the pairs the model joins on.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CrmObject:
    """One HubSpot CRM object type as the connector reads it."""

    name: str  # path segment and raw table name
    modified_property: str
    properties: tuple[str, ...]
    associations: tuple[str, ...] = ()  # object types to read links to (v4 batch read)

    def all_properties(self) -> tuple[str, ...]:
        """The requested properties including the system ones HubSpot always has.

        >>> CrmObject("x", "hs_lastmodifieddate", ("name",)).all_properties()
        ('name', 'hs_object_id', 'createdate', 'hs_lastmodifieddate')
        """
        system = ("hs_object_id", "createdate", self.modified_property)
        return (*self.properties, *(p for p in system if p not in self.properties))


_ADDRESS = ("address", "city", "state", "zip", "country")

CONTACTS = CrmObject(
    "contacts", "lastmodifieddate",
    ("email", "firstname", "lastname", "phone", "mobilephone", *_ADDRESS, "company", "jobtitle",
     "lifecyclestage", "hubspot_owner_id", "associatedcompanyid", "hs_email_optout",
     "erp_contact_id"),
    ("companies",),
)
COMPANIES = CrmObject(
    "companies", "hs_lastmodifieddate",
    ("name", "domain", "website", "phone", *_ADDRESS, "industry", "description",
     "hubspot_owner_id"),
)
DEALS = CrmObject(
    "deals", "hs_lastmodifieddate",
    ("dealname", "amount", "dealstage", "pipeline", "closedate", "deal_currency_code",
     "hubspot_owner_id"),
    ("companies", "contacts", "line_items"),
)
LINE_ITEMS = CrmObject(
    "line_items", "hs_lastmodifieddate",
    ("name", "quantity", "price", "amount", "hs_product_id", "hs_sku", "description"),
)
PRODUCTS = CrmObject(
    "products", "hs_lastmodifieddate",
    ("name", "hs_sku", "price", "description"),
)

OBJECTS: tuple[CrmObject, ...] = (CONTACTS, COMPANIES, DEALS, LINE_ITEMS, PRODUCTS)
