{#- Incremental deterministic keys (int_customer_match_keys) and the links they make
    (int_customer_key_edges).

    int_customer_match_keys keeps each record's keys with the record's dlt load id. A build
    rekeys only the records dlt loaded since (a load id the model does not hold: `<model>__
    changed`); the order_invoice keys, which depend on orders and invoices rather than on the
    records, are recomputed (`<model>__order_invoice`) for every ERP contact a change can touch
    and only their difference applied. Those contacts come from `<model>__order_invoice_links`
    (each sales invoice matched to an order: reference, invoice, shop customer, ERP contact, as
    at the last build, with `<model>__order_invoice_loads`, the load ids of orders and invoices
    read then): the contacts of the links of every reference an order or invoice loaded since
    names now or named then, of the reloaded ERP contacts and of the reloaded shop customers'
    links. Without that state (a full refresh, the first build) every key is recomputed.
    Every key group (match_rule, match_value) that lost or gained a record is appended to the
    change log `int_customer_match_keys__changes`.

    int_customer_key_edges relinks only the key groups in that log, then empties it. The log
    exists only while the links agree with the keys up to what it lists: a full refresh of the
    keys drops it, so the next links build relinks everything and starts a new, empty log.
    Steward overrides, `identity_rules` and `identity_max_key_group` are read whole only by a
    full refresh (`goldloop build --full-refresh`). -#}

{#- The change log of the keys relation `keys` (int_customer_match_keys). -#}
{% macro key_change_log(keys) -%}
    {{ return(keys.incorporate(path={'identifier': keys.identifier ~ '__changes'})) }}
{%- endmacro %}

{#- The (record_key, match_rule, match_value) rows of every order_invoice key (none when the
    rule is not in `identity_rules`: the orders and invoices are not read). -#}
{% macro order_invoice_keys_sql(records, orders, invoices, links=none, contacts=none) -%}
    {%- if 'order_invoice' not in var('identity_rules') -%}
    select cast(null as {{ dbt.type_string() }}) as record_key,
        cast(null as {{ dbt.type_string() }}) as match_rule,
        cast(null as {{ dbt.type_string() }}) as match_value
    where 1 = 0
    {%- else %}
    with
    person_erp_contacts as (
        -- an account billed for many buyers (a shop's cash-sale account) names no person
        select record_key, record_id as contact_id from {{ records }}
        where system = 'erp' and (first_name_key is not null or last_name_key is not null)
    ),
    shop_customers as (
        select record_key, record_id as customer_record_id from {{ records }}
        where system = 'shop'
    ),
    order_invoices as (
        select distinct
            shop_customers.record_key as shop_record_key,
            person_erp_contacts.record_key as erp_record_key,
            person_erp_contacts.contact_id
        from {{ links or order_invoice_links_sql(orders, invoices) }} as links
        inner join shop_customers
            on links.customer_record_id = shop_customers.customer_record_id
        inner join person_erp_contacts on links.contact_id = person_erp_contacts.contact_id
        {%- if contacts %}
        where links.contact_id in (select contact_id from {{ contacts }})
        {%- endif %}
    )
    select shop_record_key as record_key, 'order_invoice' as match_rule,
        contact_id as match_value
    from order_invoices
    union
    select erp_record_key, 'order_invoice', contact_id from order_invoices
    {%- endif %}
{%- endmacro %}

{#- The sales invoices matched to the order their reference names: (reference, invoice_id,
    customer_record_id, contact_id), both parties known; only the `references` given (a
    relation with a `reference` column), or all. -#}
{% macro order_invoice_links_sql(orders, invoices, references=none) -%}
    (select orders.order_reference as reference, invoices.invoice_id,
        orders.customer_record_id, invoices.contact_id
    from {{ orders }} as orders
    inner join {{ invoices }} as invoices on orders.order_reference = invoices.reference
    where orders.customer_record_id is not null
        and invoices.is_sales_invoice and invoices.contact_id is not null
        {%- if references %}
        and orders.order_reference in (select reference from {{ references }})
        and invoices.reference in (select reference from {{ references }})
        {%- endif %})
{%- endmacro %}

{% macro order_invoice_links_are_kept() -%}
    {{ return('order_invoice' in var('identity_rules')
        and state_is_kept(['order_invoice_links', 'order_invoice_loads'])) }}
{%- endmacro %}

{#- In the keys' pre-hook, with the links kept: the links of every reference an order or
    invoice loaded since names now or named then are redone, and the order_invoice keys of
    the ERP contacts they touch (or reloaded, or linked to a reloaded shop customer) computed
    (`__order_invoice`; the contacts in `__order_invoice_contacts`). -#}
{% macro rekey_changed_order_invoices(records, orders, invoices) -%}
    {%- set links = state_table('order_invoice_links') -%}
    {%- set loads = state_table('order_invoice_loads') -%}
    drop table if exists {{ state_table('order_invoice_references') }};
    create table {{ state_table('order_invoice_references') }} as
        select order_reference as reference from {{ orders }}
        where {{ loaded_since_kept(loads) }}
        union
        select reference from {{ invoices }}
        where {{ loaded_since_kept(loads) }} and reference is not null
        union
        select kept.reference from {{ links }} as kept
        where kept.invoice_id in (
            select invoice_id from {{ invoices }}
            where {{ loaded_since_kept(loads) }});
    drop table if exists {{ state_table('order_invoice_contacts') }};
    create table {{ state_table('order_invoice_contacts') }} as
        select contact_id from {{ links }}
        where reference in (select reference from {{ state_table('order_invoice_references') }})
            or customer_record_id in (
                select records.record_id from {{ records }} as records
                where records.system = 'shop' and records.record_key in (
                    select record_key from {{ state_table('changed') }}))
        union
        select records.record_id from {{ records }} as records
        where records.system = 'erp'
            and records.record_key in (select record_key from {{ state_table('changed') }});
    delete from {{ links }}
    where reference in (select reference from {{ state_table('order_invoice_references') }});
    insert into {{ links }} (reference, invoice_id, customer_record_id, contact_id)
        select reference, invoice_id, customer_record_id, contact_id
        from {{ order_invoice_links_sql(orders, invoices,
            state_table('order_invoice_references')) }} as redone;
    insert into {{ state_table('order_invoice_contacts') }} (contact_id)
        select contact_id from {{ links }}
        where reference in (select reference from {{ state_table('order_invoice_references') }});
    drop table if exists {{ state_table('order_invoice') }};
    create table {{ state_table('order_invoice') }} as
        {{ order_invoice_keys_sql(records, orders, invoices, links,
            state_table('order_invoice_contacts')) }};
{%- endmacro %}

{#- Pre-hook of int_customer_match_keys: which records to rekey, the order_invoice keys now;
    log and delete the keys that go. A full refresh drops the change log. -#}
{% macro forget_changed_keys(records, orders, invoices) -%}
    {%- if 'order_invoice' in var('identity_rules') %}
    drop table if exists {{ state_table('order_invoice_loads_now') }};
    create table {{ state_table('order_invoice_loads_now') }} as
        {{- load_ids_now_sql([orders, invoices]) }};
    {%- endif %}
    {%- if not is_incremental() %}
    drop table if exists {{ key_change_log(this) }}
    {%- else %}
    {%- set log = load_relation(key_change_log(this)) -%}
    drop table if exists {{ state_table('changed') }};
    create table {{ state_table('changed') }} as
        select record_key from {{ records }} as records
        where {{ loaded_since_last_build('records.load_id') }};
    {%- if order_invoice_links_are_kept() %}
    {{ rekey_changed_order_invoices(records, orders, invoices) }}
    {%- set in_scope = "and match_value in (select contact_id from "
        ~ state_table('order_invoice_contacts') ~ ")" %}
    {%- else %}
    drop table if exists {{ state_table('order_invoice') }};
    create table {{ state_table('order_invoice') }} as
        {{ order_invoice_keys_sql(records, orders, invoices) }};
    {%- set in_scope = "" %}
    {%- endif %}
    {#- the order_invoice keys held now of the contacts recomputed: read from the keys once,
        for what goes and for the groups that gain a record (every recomputed value is
        among those contacts) -#}
    {#- on DuckDB each key that goes is deleted by its row id, not found again among 10M -#}
    {%- set by_row = target.type == 'duckdb' %}
    {%- set row_id = 'rowid as key_row, ' if by_row else '' %}
    create temporary table goldloop_order_invoice_held as
        select {{ row_id }}record_key, match_rule, match_value from {{ this }}
        where match_rule = 'order_invoice' {{ in_scope }};
    create temporary table goldloop_keys_gone as
        select {{ row_id }}record_key, match_rule, match_value from {{ this }}
        where record_key in (select record_key from {{ state_table('changed') }})
        union
        select held.* from goldloop_order_invoice_held as held
        where not exists (
            select 1 from {{ state_table('order_invoice') }} as now
            where now.record_key = held.record_key and now.match_rule = held.match_rule
                and now.match_value = held.match_value);
    {% if log is not none -%}
    insert into {{ log }} (match_rule, match_value)
        select match_rule, match_value from goldloop_keys_gone
        union
        (select match_rule, match_value from {{ state_table('order_invoice') }}
         except
         select match_rule, match_value from goldloop_order_invoice_held);
    {% endif -%}
    {%- if by_row %}
    delete from {{ this }} where rowid in (select key_row from goldloop_keys_gone);
    {%- else %}
    delete from {{ this }} as kept
    where exists (
        select 1 from goldloop_keys_gone as gone
        where gone.record_key = kept.record_key and gone.match_rule = kept.match_rule
            and gone.match_value = kept.match_value);
    {%- endif %}
    drop table goldloop_keys_gone;
    drop table goldloop_order_invoice_held
    {%- endif -%}
{%- endmacro %}

{#- Post-hook of int_customer_match_keys: log the groups of the rekeyed records' new keys;
    keep the order_invoice links. -#}
{% macro log_changed_keys(orders, invoices) -%}
    {%- set log = load_relation(key_change_log(this)) if is_incremental() else none -%}
    {% if log is not none -%}
    insert into {{ log }} (match_rule, match_value)
        select distinct match_rule, match_value from {{ this }}
        where record_key in (select record_key from {{ state_table('changed') }});
    {% endif -%}
    drop table if exists {{ state_table('changed') }};
    drop table if exists {{ state_table('order_invoice') }};
    {{ keep_order_invoice_links(orders, invoices) }}
{%- endmacro %}

{#- In the keys' post-hook: the links and the loads read, for the next build (all the links
    again when they were not kept). -#}
{% macro keep_order_invoice_links(orders, invoices) -%}
    {%- if 'order_invoice' not in var('identity_rules') -%}
    {#- the rule is off: nothing kept, the next build with it on links everything -#}
    drop table if exists {{ state_table('order_invoice_links') }};
    drop table if exists {{ state_table('order_invoice_loads') }}
    {%- else -%}
    {%- if order_invoice_links_are_kept() -%}
    drop table {{ state_table('order_invoice_references') }};
    drop table {{ state_table('order_invoice_contacts') }};
    {%- else -%}
    drop table if exists {{ state_table('order_invoice_links') }};
    create table {{ state_table('order_invoice_links') }} as
        select * from {{ order_invoice_links_sql(orders, invoices) }} as links;
    {%- endif %}
    drop table if exists {{ state_table('order_invoice_loads') }};
    create table {{ state_table('order_invoice_loads') }} as
        select load_id from {{ state_table('order_invoice_loads_now') }};
    drop table {{ state_table('order_invoice_loads_now') }}
    {%- endif %}
{%- endmacro %}

{#- int_customer_key_edges (links of the keys `keys`): whether it relinks only the logged
    groups (a unit test has no `this`: no). -#}
{% macro key_edges_are_incremental(keys) -%}
    {{ return(execute and this is not none and is_incremental()
        and load_relation(key_change_log(keys)) is not none) }}
{%- endmacro %}

{#- Pre-hook of int_customer_key_edges: the groups to relink; their links go (all links when
    there is no log to go by). -#}
{% macro forget_changed_links(keys) -%}
    {%- if key_edges_are_incremental(keys) -%}
    drop table if exists {{ state_table('groups') }};
    create table {{ state_table('groups') }} as
        select distinct match_rule, match_value from {{ key_change_log(keys) }};
    {%- if target.type == 'duckdb' %}
    {#- the links read once: logged for the clusterings (macros/touched_log.sql), then deleted
        by row id -#}
    create temporary table goldloop_links_gone as
        {{ relinked_links_sql('links.rowid as link_row, links.record_key') }};
    {{ log_touched('select record_key from goldloop_links_gone') }}
    delete from {{ this }} where rowid in (select link_row from goldloop_links_gone);
    drop table goldloop_links_gone
    {%- else %}
    {{ log_touched(relinked_links_sql()) }}
    delete from {{ this }} as kept where {{ in_relinked_group('kept') }}
    {%- endif %}
    {%- elif is_incremental() -%}
    delete from {{ this }}
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{#- SQL: the key or link `alias` is in a group being relinked (`__groups`). -#}
{% macro in_relinked_group(alias) -%}
    exists (
        select 1 from {{ state_table('groups') }} as groups
        where groups.match_rule = {{ alias }}.match_rule
            and groups.match_value = {{ alias }}.match_value)
{%- endmacro %}

{#- In int_customer_key_edges: only the keys of the groups being relinked. -#}
{% macro changed_key_groups_only(keys, alias) -%}
    {%- if key_edges_are_incremental(keys) -%}
    {{ in_relinked_group(alias) }}
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}

{#- SQL: this model's links in the groups being relinked. A link's record_key side is what it
    touches for the clusterings, which compare the kept links with either end among the logged
    records (macros/touched_log.sql). -#}
{% macro relinked_links_sql(columns='links.record_key') -%}
    select {{ columns }} from {{ this }} as links
    where {{ in_relinked_group('links') }}
{%- endmacro %}

{#- Post-hook of int_customer_key_edges: the relinked records logged for the clusterings
    (macros/touched_log.sql; the log restarted when every link was written again); a new,
    empty change log. -#}
{% macro start_key_change_log(keys) -%}
    {%- if key_edges_are_incremental(keys) and load_relation(touched_log(this)) is not none %}
    {{ log_touched(relinked_links_sql()) }}
    {{ prune_log(touched_log(this), 'record_key', 'logged_at') }};
    {%- else %}
    {{ restart_touched_log() }};
    {%- endif %}
    drop table if exists {{ state_table('groups') }};
    drop table if exists {{ key_change_log(keys) }};
    create table {{ key_change_log(keys) }} (
        match_rule {{ dbt.type_string() }}, match_value {{ dbt.type_string() }})
{%- endmacro %}
