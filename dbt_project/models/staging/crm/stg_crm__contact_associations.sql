{#- One row per link from a CRM contact to another record
    (macros/stg_crm_associations.sql). -#}
{{ stg_crm_associations('contacts', 'contact_id') }}
