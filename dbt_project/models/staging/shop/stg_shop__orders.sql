with

source as (
    {{ source_or_empty('shop', 'orders', {
        '_dlt_load_id': 'varchar',
        'record_id': 'varchar', '_dlt_id': 'varchar', 'shop': 'varchar', 'id': 'bigint',
        'customer_record_id': 'varchar', 'name': 'varchar', 'order_number': 'bigint',
        'email': 'varchar', 'currency': 'varchar', 'financial_status': 'varchar',
        'subtotal_price': 'decimal(18, 2)', 'total_tax': 'decimal(18, 2)',
        'total_discounts': 'decimal(18, 2)', 'total_price': 'decimal(18, 2)',
        '_goldloop_deleted': 'boolean', 'created_at': 'timestamp with time zone',
        'cancelled_at': 'timestamp with time zone', 'closed_at': 'timestamp with time zone',
        'updated_at': 'timestamp with time zone'
    }) }}
),

final as (
    select
        record_id as order_record_id,
        _dlt_id as order_row_id,
        shop,
        cast(id as {{ dbt.type_string() }}) as order_id,
        customer_record_id,
        -- the name the ERP invoice's Reference carries: <shop>/#1001
        shop || '/' || name as order_reference,
        name as order_name,
        cast(order_number as integer) as order_number,
        {{ normalize_email('email') }} as email,
        upper(currency) as currency_code,
        lower(financial_status) as financial_status,
        cast(subtotal_price as decimal(18, 2)) as subtotal_amount,
        cast(total_tax as decimal(18, 2)) as tax_amount,
        cast(total_discounts as decimal(18, 2)) as discount_amount,
        cast(total_price as decimal(18, 2)) as total_amount,
        cancelled_at is not null as is_cancelled,
        coalesce(_goldloop_deleted, false) as is_deleted,
        {{ to_utc('created_at') }} as ordered_at,
        {{ to_utc('cancelled_at') }} as cancelled_at,
        {{ to_utc('closed_at') }} as closed_at,
        {{ to_utc('updated_at') }} as updated_at,
        _dlt_load_id as load_id
    from source
)

select * from final
