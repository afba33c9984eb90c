{#- One row per link from a CRM deal to a company, contact or line item
    (macros/stg_crm_associations.sql). -#}
{{ stg_crm_associations('deals', 'deal_id') }}
