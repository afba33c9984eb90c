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
      company_label the employer's name folded to one word, legal form dropped (Levy Retail
                    Ltd -> levyretail): the CRM company's name, or the employer an ERP contact's
                    name carries in brackets (stg_erp__contacts.employer_name)
      company_domain_label
                    the first label of company_key (levyretail.uk -> levyretail): a company
                    named on one side and known by its domain on the other still agree
      is_free_email the e-mail is at a free-mail domain (two such addresses with the same local
                    part are two people as often as one)
      first_name_formal_names
                    the formal first names the first name stands for, '|'-delimited and sorted
                    (bill -> |william|, chris -> |christina|christine|christopher|, seed
                    first_name_nicknames); a name that is no known nickname stands for itself
      region_key    where the person lives: the address's country, else the phone's country
                    code (US and Canada share +1, so both read as NA)

    Incremental (macros/incremental.sql): a build recomputes the records dlt loaded since the
    last build and the CRM contacts of companies loaded since (the company's name and domain
    are compared), and drops the records gone or left without a name. A change to the seeds
    free_email_domains or first_name_nicknames needs a full refresh. -#}
{{ config(materialized='incremental', unique_key='record_key',
    incremental_strategy='delete+insert', on_schema_change='append_new_columns',
    pre_hook="{{ remember_loads_now([ref('int_customer_records'), ref('stg_crm__companies')]) }}",
    post_hook=["{{ forget_records_without_features() }}", "{{ keep_loads_read() }}"]) }}
with

records as (
    select * from {{ ref('int_customer_records') }} as records
    where (first_name_key is not null or last_name_key is not null)
    {%- if is_incremental() %}
        and ({{ loaded_since_read('records.load_id') }}
            or (records.system = 'crm' and records.record_id in (
                select contacts.contact_id from {{ ref('stg_crm__contacts') }} as contacts
                inner join {{ ref('stg_crm__companies') }} as companies
                    on contacts.company_id = companies.company_id
                where {{ loaded_since_read('companies.load_id') }})))
    {%- endif %}
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
    select company_id, company_name, domain from {{ ref('stg_crm__companies') }}
),

with_parts as (
    select
        records.*,
        {{ dbt.split_part('records.email_key', "'@'", 1) }} as email_local,
        {{ dbt.split_part('records.email_key', "'@'", 2) }} as email_domain,
        crm_companies.domain as crm_company_domain,
        {{ fold_company_name('coalesce(crm_companies.company_name, records.employer_name)') }}
            as company_name_key
    from records
    left join crm_contacts
        on records.system = 'crm' and records.record_id = crm_contacts.contact_id
    left join crm_companies on crm_contacts.company_id = crm_companies.company_id
),

with_company as (
    select
        with_parts.*,
        coalesce(
            case when free_email_domains.domain is null
                then nullif(with_parts.email_domain, '') end,
            with_parts.crm_company_domain) as company_key,
        free_email_domains.domain is not null as is_free_email
    from with_parts
    left join free_email_domains on with_parts.email_domain = free_email_domains.domain
),

final as (
    select
        with_company.record_key,
        with_company.system,
        with_company.first_name_key,
        '|' || coalesce(formal_names.first_names, with_company.first_name_key) || '|'
            as first_name_formal_names,
        with_company.last_name_key,
        with_company.email_key,
        nullif(with_company.email_local, '') as email_local,
        with_company.phone_key,
        with_company.postcode_key,
        with_company.street_key,
        {{ fold_text('with_company.city') }} as city_key,
        with_company.company_key,
        with_company.crm_company_domain,
        replace(with_company.company_name_key, ' ', '') as company_label,
        {{ dbt.split_part('with_company.company_key', "'.'", 1) }} as company_domain_label,
        with_company.is_free_email,
        coalesce(
            case when with_company.country_code in ('US', 'CA') then 'NA'
                else with_company.country_code end,
            case
                when with_company.phone like '+1%' then 'NA'
                when with_company.phone like '+44%' then 'GB'
                when with_company.phone like '+353%' then 'IE'
                when with_company.phone like '+61%' then 'AU'
                when with_company.phone like '+64%' then 'NZ'
            end) as region_key
    from with_company
    left join formal_names on with_company.first_name_key = formal_names.nickname
)

select * from final
