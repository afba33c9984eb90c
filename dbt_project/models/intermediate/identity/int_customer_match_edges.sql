{#- Links between records that share a match key. Each key group is linked as a star (every
    record to the group's first record) rather than all pairs: the same clusters, linear in
    records. A key shared by more than `identity_max_key_group` records is a placeholder value
    (shared inbox, switchboard, a default), not an identity, and links nothing. -#}
with

match_keys as (
    select * from {{ ref('int_customer_match_keys') }}
),

key_groups as (
    select
        match_rule,
        match_value,
        min(record_key) as hub_record_key,
        count(*) as records_sharing_key
    from match_keys
    group by match_rule, match_value
),

final as (
    select
        match_keys.record_key,
        key_groups.hub_record_key as linked_record_key,
        match_keys.match_rule,
        match_keys.match_value
    from match_keys
    inner join key_groups
        on match_keys.match_rule = key_groups.match_rule
        and match_keys.match_value = key_groups.match_value
    where key_groups.records_sharing_key between 2 and {{ var('identity_max_key_group') }}
        and match_keys.record_key <> key_groups.hub_record_key
)

select * from final
