{#- People who left (terminated in HR) but still hold an active CRM seat, matched on work
    e-mail, with the hours since termination against the access policy
    (`leaver_access_policy_hours`, 4 by default). Termination dates are days: a leaver's access
    should end by the start of the termination day (UTC) plus the policy. `as_of` (var, a UTC
    timestamp) pins the clock for reproducible runs; default now. -#}
with

employees as (
    select * from {{ ref('stg_hr__employees') }}
),

owners as (
    select * from {{ ref('stg_crm__owners') }}
),

as_of as (
    select
        {%- if var('as_of', none) %}
        cast('{{ var("as_of") }}' as timestamp) as as_of_at
        {%- else %}
        {{ to_utc(dbt.current_timestamp()) }} as as_of_at
        {%- endif %}
),

-- the pipeline flags leavers as deleted too (they never look live): termination is the test
leavers as (
    select * from employees
    where is_terminated
),

final as (
    select
        {{ stable_id('brk_', "'leaver_active_owner:' || owners.owner_id") }} as break_id,
        'leaver_active_owner' as break_kind,
        'crm' as system,
        owners.owner_id as record_id,
        owners.owner_id,
        owners.user_id,
        leavers.employee_id,
        leavers.work_email,
        leavers.first_name,
        leavers.last_name,
        leavers.department,
        round(cast({{ seconds_between('cast(leavers.termination_date as timestamp)',
            'as_of.as_of_at') }} / 3600.0 as decimal(18, 4)), 1) as hours_since_termination,
        {{ var('leaver_access_policy_hours') }} as policy_hours,
        {{ seconds_between('cast(leavers.termination_date as timestamp)', 'as_of.as_of_at') }}
            > {{ var('leaver_access_policy_hours') }} * 3600 as is_policy_breached,
        leavers.termination_date,
        as_of.as_of_at
    from leavers
    inner join owners on leavers.work_email = owners.email
    cross join as_of
    where not owners.is_archived
        and not owners.is_deleted
        and cast(leavers.termination_date as timestamp) <= as_of.as_of_at
)

select * from final
