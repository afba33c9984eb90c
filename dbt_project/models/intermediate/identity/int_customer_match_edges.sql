{#- Links between customer records, from three sources:
      - the deterministic rules: records that share a match key, each key group linked as a star
        (every record to the group's first record) rather than all pairs: the same clusters,
        linear in records. A key shared by more than `identity_max_key_group` records is a
        placeholder value (shared inbox, switchboard, a default), not an identity: no links.
      - probabilistic matching: pairs Splink scored at least identity_match_threshold
        (match_rule 'probabilistic', match_value 'auto_match');
      - a data steward's force_match decisions (match_rule 'steward', match_value 'force_match').
    A steward's force_split wins over all three: no score links the pair, and record_key_b
    leaves every key group it shares with record_key_a. -#}
with

match_keys as (
    select * from {{ ref('int_customer_match_keys') }}
),

decided_pairs as (
    select * from {{ ref('int_customer_pairs_decided') }}
),

splits as (
    select
        detached_record_key,
        case when detached_record_key = record_key_a then record_key_b else record_key_a end
            as kept_record_key
    from decided_pairs
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

rule_edges as (
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
),

decided_edges as (
    select
        record_key_b as record_key,
        record_key_a as linked_record_key,
        case decision when 'force_match' then 'steward' else 'probabilistic' end as match_rule,
        decision as match_value
    from decided_pairs
    where decision in ('force_match', 'auto_match')
),

final as (
    select * from rule_edges
    union all
    select * from decided_edges
)

select * from final
