{#- Links between customer records that share a deterministic match key: each key group is
    linked as a star (every record to the group's first record) rather than all pairs: the same
    clusters, linear in records. A key shared by more than `identity_max_key_group` records is a
    placeholder value (shared inbox, switchboard, a cash-sale account), not an identity: no
    links. A steward's force_split (seed customer_match_overrides) takes record_key_b out of
    every key group it shares with record_key_a.

    Incremental (macros/match_keys.sql): a build relinks only the key groups that gained or
    lost a record since the last one. -#}
{{ config(materialized='incremental', incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ forget_changed_links(ref('int_customer_match_keys')) }}",
    post_hook="{{ start_key_change_log(ref('int_customer_match_keys')) }}") }}
with

match_keys as (
    select * from {{ ref('int_customer_match_keys') }} as match_keys
    where {{ changed_key_groups_only(ref('int_customer_match_keys'), 'match_keys') }}
),

overrides as (
    select * from {{ ref('customer_match_overrides') }}
),

splits as (
    select record_key_b as detached_record_key, record_key_a as kept_record_key
    from overrides
    where decision = 'force_split'
),

detached_keys as (
    select distinct detached.record_key, detached.match_rule, detached.match_value
    from splits
    inner join match_keys as kept on splits.kept_record_key = kept.record_key
    inner join match_keys as detached
        on splits.detached_record_key = detached.record_key
        and kept.match_rule = detached.match_rule
        and kept.match_value = detached.match_value
),

kept_keys as (
    select match_keys.*
    from match_keys
    left join detached_keys
        on match_keys.record_key = detached_keys.record_key
        and match_keys.match_rule = detached_keys.match_rule
        and match_keys.match_value = detached_keys.match_value
    where detached_keys.record_key is null
),

-- placeholder values are judged on every record holding them, detached or not
key_sizes as (
    select match_rule, match_value, count(*) as records_sharing_key
    from match_keys
    group by match_rule, match_value
),

key_groups as (
    select
        kept_keys.match_rule,
        kept_keys.match_value,
        min(kept_keys.record_key) as hub_record_key
    from kept_keys
    inner join key_sizes
        on kept_keys.match_rule = key_sizes.match_rule
        and kept_keys.match_value = key_sizes.match_value
    where key_sizes.records_sharing_key <= {{ var('identity_max_key_group') }}
    group by kept_keys.match_rule, kept_keys.match_value
),

final as (
    select
        kept_keys.record_key,
        key_groups.hub_record_key as linked_record_key,
        kept_keys.match_rule,
        kept_keys.match_value
    from kept_keys
    inner join key_groups
        on kept_keys.match_rule = key_groups.match_rule
        and kept_keys.match_value = key_groups.match_value
    where kept_keys.record_key <> key_groups.hub_record_key
)

select * from final
