with

source as (
    {{ source_or_empty('hr', 'employees', {
        '_dlt_load_id': 'varchar',
        'id': 'varchar', 'employee_number': 'varchar', 'supervisor_e_id': 'varchar',
        'first_name': 'varchar', 'last_name': 'varchar', 'preferred_name': 'varchar',
        'display_name': 'varchar', 'work_email': 'varchar', 'supervisor_email': 'varchar',
        'department': 'varchar', 'division': 'varchar', 'location': 'varchar',
        'job_title': 'varchar', 'status': 'varchar', '_goldloop_deleted': 'boolean',
        'hire_date': 'date', 'termination_date': 'date',
        'last_changed': 'timestamp with time zone'
    }) }}
),

final as (
    select
        id as employee_id,
        nullif(trim(employee_number), '') as employee_number,
        nullif(trim(supervisor_e_id), '') as supervisor_employee_id,
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('last_name') }} as last_name,
        {{ clean_text('preferred_name') }} as preferred_name,
        {{ clean_text('display_name') }} as display_name,
        {{ normalize_email('work_email') }} as work_email,
        {{ normalize_email('supervisor_email') }} as supervisor_email,
        {{ clean_text('department') }} as department,
        {{ clean_text('division') }} as division,
        {{ clean_text('location') }} as location,
        {{ clean_text('job_title') }} as job_title,
        lower(trim(status)) as employment_status,
        coalesce(lower(trim(status)) = 'active', false) as is_active,
        termination_date is not null as is_terminated,
        coalesce(_goldloop_deleted, false) as is_deleted,
        cast(hire_date as date) as hire_date,
        cast(termination_date as date) as termination_date,
        {{ to_utc('last_changed') }} as updated_at,
        _dlt_load_id as load_id
    from source
)

select * from final
