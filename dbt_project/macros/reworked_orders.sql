{#- Incremental orders_vs_invoices, by shop order: a build reworks the orders dlt loaded since
    the last build and every order whose reference an invoice loaded since names now, or named
    at the last build (an invoice moved to another order). State beside the model:
      `<model>__loads`       the load ids of orders and invoices the last build had read;
      `<model>__references`  each sales invoice's reference at the last build.
    A full refresh, or a build without that state, reads every order and starts the state
    again. A load is told by its id (`load_id`), so rows edited in the warehouse by hand are not
    seen until a full build. -#}

{% macro order_rework_is_kept() -%}
    {{ return(state_is_kept(['loads', 'references'])) }}
{%- endmacro %}

{#- Pre-hook: the loads read now; in an incremental build the orders to rework, whose breaks
    go (with those of orders no longer loaded at all). -#}
{% macro forget_reworked_orders(orders, invoices) -%}
    {{ remember_loads_now([orders, invoices]) }};
    {%- if order_rework_is_kept() %}
    drop table if exists {{ state_table('changed_invoices') }};
    create table {{ state_table('changed_invoices') }} as
        select invoice_id, case when is_sales_invoice then reference end as reference
        from {{ invoices }}
        where {{ loaded_since_kept(state_table('loads')) }};
    drop table if exists {{ state_table('reworked') }};
    create table {{ state_table('reworked') }} as
        select order_record_id from {{ orders }}
        where {{ loaded_since_kept(state_table('loads')) }}
            or order_reference in (
                select reference from {{ state_table('changed_invoices') }}
                union
                select kept.reference from {{ state_table('references') }} as kept
                where kept.invoice_id in (
                    select invoice_id from {{ state_table('changed_invoices') }}));
    delete from {{ this }}
    where order_record_id in (select order_record_id from {{ state_table('reworked') }})
        or order_record_id not in (select order_record_id from {{ orders }})
    {%- elif execute and not flags.FULL_REFRESH and this is not none
        and load_relation(this) is not none %};
    {#- built before it kept its state: every order is reworked -#}
    delete from {{ this }}
    {%- endif %}
{%- endmacro %}

{#- In the model: only the orders being reworked (all in a full build). -#}
{% macro reworked_orders_only(column) -%}
    {%- if order_rework_is_kept() -%}
    {{ column }} in (select order_record_id from {{ state_table('reworked') }})
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}

{#- Post-hook: the references of the invoices read and the loads read, for the next build. -#}
{% macro keep_reworked_orders_state(invoices) -%}
    {%- if order_rework_is_kept() -%}
    delete from {{ state_table('references') }}
    where invoice_id in (select invoice_id from {{ state_table('changed_invoices') }});
    insert into {{ state_table('references') }} (invoice_id, reference)
        select invoice_id, reference from {{ state_table('changed_invoices') }}
        where reference is not null;
    drop table {{ state_table('changed_invoices') }};
    drop table {{ state_table('reworked') }};
    {%- else -%}
    drop table if exists {{ state_table('references') }};
    create table {{ state_table('references') }} as
        select invoice_id, reference from {{ invoices }}
        where is_sales_invoice and reference is not null;
    {%- endif %}
    {{ keep_loads_read() }}
{%- endmacro %}
