with

source as (
    {{ source_or_empty('crm', 'owners', {
        '_dlt_load_id': 'varchar',
        'id': 'varchar', 'email': 'varchar', 'first_name': 'varchar', 'last_name': 'varchar',
        'user_id': 'bigint', 'created_at': 'timestamp with time zone',
        'updated_at': 'timestamp with time zone', 'archived': 'boolean',
        '_goldloop_deleted': 'boolean'
    }) }}
),

final as (
    select
        id as owner_id,
        cast(user_id as {{ dbt.type_string() }}) as user_id,
        {{ normalize_email('email') }} as email,
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('last_name') }} as last_name,
        coalesce(archived, false) as is_archived,
        coalesce(_goldloop_deleted, false) as is_deleted,
        {{ to_utc('created_at') }} as created_at,
        {{ to_utc('updated_at') }} as updated_at,
        _dlt_load_id as load_id
    from source
)

select * from final
