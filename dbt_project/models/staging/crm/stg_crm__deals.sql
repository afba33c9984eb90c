with

source as (
    {{ source_or_empty('crm', 'deals', {
        '_dlt_load_id': 'varchar', 'id': 'varchar', 'created_at': 'timestamp with time zone',
        'updated_at': 'timestamp with time zone', 'archived': 'boolean',
        'archived_at': 'timestamp with time zone', '_goldloop_deleted': 'boolean',
        'dealname': 'varchar', 'amount': 'varchar', 'dealstage': 'varchar',
        'pipeline': 'varchar', 'closedate': 'varchar', 'deal_currency_code': 'varchar',
        'hubspot_owner_id': 'varchar'
    }) }}
),

final as (
    select
        id as deal_id,
        nullif(trim(hubspot_owner_id), '') as owner_id,
        {{ clean_text('dealname') }} as deal_name,
        nullif(trim(dealstage), '') as deal_stage,
        nullif(trim(pipeline), '') as pipeline,
        upper(nullif(trim(deal_currency_code), '')) as currency_code,
        cast(nullif(trim(amount), '') as decimal(18, 2)) as amount,
        coalesce(trim(dealstage) = 'closedwon', false) as is_closed_won,
        coalesce(trim(dealstage) in ('closedwon', 'closedlost'), false) as is_closed,
        coalesce(_goldloop_deleted, false) as is_deleted,
        {{ to_utc("nullif(trim(closedate), '')") }} as closed_at,
        {{ to_utc('created_at') }} as created_at,
        {{ to_utc('updated_at') }} as updated_at,
        {{ to_utc('archived_at') }} as archived_at,
        _dlt_load_id as load_id
    from source
)

select * from final
