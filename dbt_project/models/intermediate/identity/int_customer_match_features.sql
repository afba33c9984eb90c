{#- The fields probabilistic matching compares, one row per customer record that names a person
    (business accounts are matched by the deterministic rules only). Besides the folded fields
    of int_customer_records:
      email_local   the e-mail's local part (no +tag): a blocking key
      city_key      the city folded
      company_key   the company the person works for: the e-mail's domain unless it is a
                    free-mail domain (seed free_email_domains), else the web domain of the
                    CRM company the contact is associated with
      crm_company_domain
                    that CRM company's web domain, even when the e-mail is at another
                    company's (an old job's address kept on a contact the sales team moved)
      is_free_email the e-mail is at a free-mail domain (two such addresses with the same local
                    part are two people as often as one)
      first_name_formal_names
                    the formal first names the first name stands for, '|'-delimited and sorted
                    (bill -> |william|, chris -> |christina|christine|christopher|, seed
                    first_name_nicknames); a name that is no known nickname stands for itself
      region_key    where the person lives: the address's country, else the phone's country
                    code (US and Canada share +1, so both read as NA) -#}
with

records as (
    select * from {{ ref('int_customer_records') }}
    where first_name_key is not null or last_name_key is not null
),

free_email_domains as (
    select domain from {{ ref('free_email_domains') }}
),

-- per nickname, the formal names it is short for
formal_names as (
    select
        nickname,
        {{ dbt.listagg('first_name', "'|'", 'order by first_name') }} as first_names
    from {{ ref('first_name_nicknames') }}
    group by nickname
),

crm_contacts as (
    select contact_id, company_id from {{ ref('stg_crm__contacts') }}
),

crm_companies as (
    select company_id, domain from {{ ref('stg_crm__companies') }}
),

with_parts as (
    select
        records.*,
        {{ dbt.split_part('records.email_key', "'@'", 1) }} as email_local,
        {{ dbt.split_part('records.email_key', "'@'", 2) }} as email_domain,
        crm_companies.domain as crm_company_domain
    from records
    left join crm_contacts
        on records.system = 'crm' and records.record_id = crm_contacts.contact_id
    left join crm_companies on crm_contacts.company_id = crm_companies.company_id
),

final as (
    select
        with_parts.record_key,
        with_parts.system,
        with_parts.first_name_key,
        '|' || coalesce(formal_names.first_names, with_parts.first_name_key) || '|'
            as first_name_formal_names,
        with_parts.last_name_key,
        with_parts.email_key,
        nullif(with_parts.email_local, '') as email_local,
        with_parts.phone_key,
        with_parts.postcode_key,
        with_parts.street_key,
        {{ fold_text('with_parts.city') }} as city_key,
        coalesce(
            case when free_email_domains.domain is null
                then nullif(with_parts.email_domain, '') end,
            with_parts.crm_company_domain) as company_key,
        with_parts.crm_company_domain,
        free_email_domains.domain is not null as is_free_email,
        coalesce(
            case when with_parts.country_code in ('US', 'CA') then 'NA'
                else with_parts.country_code end,
            case
                when with_parts.phone like '+1%' then 'NA'
                when with_parts.phone like '+44%' then 'GB'
                when with_parts.phone like '+353%' then 'IE'
                when with_parts.phone like '+61%' then 'AU'
                when with_parts.phone like '+64%' then 'NZ'
            end) as region_key
    from with_parts
    left join free_email_domains on with_parts.email_domain = free_email_domains.domain
    left join formal_names on with_parts.first_name_key = formal_names.nickname
)

select * from final
