{#- The golden employee: HR is the system of record; the CRM seat (owner) is linked by work
    e-mail. -#}
with

employees as (
    select * from {{ ref('stg_hr__employees') }}
),

owners as (
    select * from {{ ref('stg_crm__owners') }}
),

final as (
    select
        employees.employee_id,
        employees.supervisor_employee_id,
        owners.owner_id as crm_owner_id,
        employees.employee_number,
        employees.first_name,
        employees.last_name,
        employees.preferred_name,
        employees.work_email,
        employees.department,
        employees.division,
        employees.location,
        employees.job_title,
        employees.employment_status,
        employees.is_active,
        employees.is_terminated,
        owners.owner_id is not null and not owners.is_archived as has_active_crm_seat,
        employees.hire_date,
        employees.termination_date,
        employees.updated_at
    from employees
    left join owners on employees.work_email = owners.email
)

select * from final
