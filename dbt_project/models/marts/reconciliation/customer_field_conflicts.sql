{#- Golden customers whose live source records disagree on e-mail, phone or address, with
    each record's value next to the golden one. Values are compared in their normalised form
    (addresses by folded street line and postcode), so "12 Maple Street" and "12 MAPLE ST" agree.
    Phones compare by their last nine digits (a national number read in another country is the
    same number). One row per customer, field and live source record holding a value.

    Incremental by customer (macros/changed_customers.sql). -#}
{{ config(pre_hook="{{ forget_changed_customers() }}",
    post_hook="{{ consume_customer_changes() }}") }}
with

clusters as (
    select * from {{ ref('int_customer_clusters') }}
),

records as (
    select * from {{ ref('int_customer_records') }}
    where not is_deleted
),

customers as (
    select * from {{ ref('customers') }}
    where {{ changed_customers_only('customer_id') }}
),

members as (
    select clusters.customer_id, records.*
    from records
    inner join clusters on records.record_key = clusters.record_key
    where {{ changed_customers_only('clusters.customer_id') }}
),

field_values as (
    select customer_id, system, object, record_id, updated_at,
        'email' as field_name, email as field_value, email as comparable_value
    from members where email is not null

    union all

    -- the last nine digits: a number read in two countries is still the same number
    select customer_id, system, object, record_id, updated_at,
        'phone', phone, phone_key
    from members where phone is not null

    union all

    select customer_id, system, object, record_id, updated_at,
        'address',
        {{ dbt.concat(["address_line1", "', '", "coalesce(city, '')", "', '",
            "coalesce(postcode, '')", "', '", "coalesce(country_code, '')"]) }},
        {{ dbt.concat(["coalesce(street_key, '')", "'|'", "coalesce(postcode_key, '')"]) }}
    from members where address_line1 is not null
),

conflicted as (
    select customer_id, field_name
    from field_values
    group by customer_id, field_name
    having count(distinct comparable_value) > 1
),

compared as (
    select
        field_values.customer_id,
        field_values.field_name,
        field_values.system,
        field_values.object,
        field_values.record_id,
        field_values.field_value,
        case field_values.field_name
            when 'email' then customers.email
            when 'phone' then customers.phone
            else {{ dbt.concat(["customers.address_line1", "', '", "coalesce(customers.city, '')",
                "', '", "coalesce(customers.postcode, '')", "', '",
                "coalesce(customers.country_code, '')"]) }}
        end as golden_value,
        case field_values.field_name
            when 'email' then customers.email__source
            when 'phone' then customers.phone__source
            else customers.address_line1__source
        end as golden_source,
        field_values.updated_at as record_updated_at
    from field_values
    inner join conflicted
        on field_values.customer_id = conflicted.customer_id
        and field_values.field_name = conflicted.field_name
    inner join customers on field_values.customer_id = customers.customer_id
),

final as (
    select
        customer_id,
        field_name,
        system,
        object,
        record_id,
        field_value,
        golden_value,
        golden_source,
        field_value = golden_value as is_golden_value,
        record_updated_at,
        {{ build_started_at() }} as built_at
    from compared
)

select * from final
