{#- What a sync feed row can share with another customer's row (macros/changed_customers.sql,
    `entangled`): (customer_id, value, reads_others) rows, of every customer or of those `only`
    (a query of customer ids) lists; reads_others: the customer's own row depends on who else
    holds the value. Each is a superset: a value listed that never decides anything, or a
    reader that does not read it, only reworks a few more customers. -#}

{#- `and <column> in (<only>)`, or nothing when every customer is wanted. -#}
{% macro only_customers(column, only) -%}
    {%- if only %} and {{ column }} in ({{ only }}){% endif -%}
{%- endmacro %}

{#- sync_crm__contacts: HubSpot keeps e-mails unique, so a golden e-mail or a contact's own
    e-mail another customer also has decides who holds it. -#}
{% macro sync_crm__contacts_shared_values(only=none) -%}
    select customer_id, email as value, true as reads_others from {{ ref('customers') }}
    where email is not null {{- only_customers('customer_id', only) }}
    union all
    select customers.customer_id, crm_contacts.email, true
    from {{ ref('customers') }} as customers
    inner join {{ ref('stg_crm__contacts') }} as crm_contacts
        on customers.crm_contact_id = crm_contacts.contact_id
    where crm_contacts.email is not null {{- only_customers('customers.customer_id', only) }}
{%- endmacro %}

{#- sync_shop__customers: a golden e-mail another customer's live shop account holds stays
    with that account. -#}
{% macro sync_shop__customers_shared_values(only=none) -%}
    select customer_id, email as value, true as reads_others from {{ ref('customers') }}
    where email is not null {{- only_customers('customer_id', only) }}
    union all
    select customer_xref.customer_id, shop_customers.email, true
    from {{ ref('customer_xref') }} as customer_xref
    inner join {{ ref('stg_shop__customers') }} as shop_customers
        on customer_xref.record_id = shop_customers.customer_record_id
    where customer_xref.system = 'shop' and not shop_customers.is_deleted
        and shop_customers.email is not null {{- only_customers('customer_xref.customer_id', only) }}
{%- endmacro %}

{#- sync_erp__contacts: a new contact's name (a customer without an ERP contact) against live
    contacts' names and other new rows: an existing contact keeps its name, which the new rows
    read, whoever else holds it; ContactNumbers (by their unsuffixed form) against customer ids
    and other contacts'. -#}
{% macro sync_erp__contacts_shared_values(only=none) -%}
    select customer_id, 'name:' || lower({{ erp_person_name('customers') }}) as value,
        true as reads_others
    from {{ ref('customers') }} as customers
    where customers.erp_contact_id is null {{- only_customers('customers.customer_id', only) }}
    union all
    select customer_id, 'number:' || lower(customer_id), true from {{ ref('customers') }}
    where true {{- only_customers('customer_id', only) }}
    union all
    select clusters.customer_id, 'name:' || lower(erp_contacts.contact_name), false
    from {{ ref('stg_erp__contacts') }} as erp_contacts
    inner join {{ ref('int_customer_clusters') }} as clusters
        on clusters.system = 'erp' and clusters.record_id = erp_contacts.contact_id
    where not erp_contacts.is_deleted and erp_contacts.contact_name is not null
        {{- only_customers('clusters.customer_id', only) }}
    union all
    select clusters.customer_id,
        'number:' || regexp_replace(lower(erp_contacts.contact_number), '-[0-9]+$', ''), true
    from {{ ref('stg_erp__contacts') }} as erp_contacts
    inner join {{ ref('int_customer_clusters') }} as clusters
        on clusters.system = 'erp' and clusters.record_id = erp_contacts.contact_id
    where erp_contacts.contact_number is not null
        {{- only_customers('clusters.customer_id', only) }}
{%- endmacro %}

{#- The name a new Xero contact gets for a golden customer (`customers` alias): the person,
    else the e-mail, else the customer id. -#}
{% macro erp_person_name(customers) -%}
    coalesce(
        nullif(trim(coalesce({{ customers }}.first_name, '') || ' '
            || coalesce({{ customers }}.last_name, '')), ''),
        {{ customers }}.email,
        {{ customers }}.customer_id)
{%- endmacro %}
