{#- Every link between two customer records, from three sources:
      - the deterministic rules (int_customer_key_edges: records sharing a match key);
      - probabilistic matching: pairs int_customer_pairs_decided auto-matched
        (match_rule 'probabilistic', match_value 'auto_match');
      - a data steward's force_match decisions (match_rule 'steward', match_value 'force_match').
    A force_split pair is never linked directly (and its record_key_b already left the key
    groups it shared with record_key_a). -#}
with

key_edges as (
    select * from {{ ref('int_customer_key_edges') }}
),

decided_pairs as (
    select * from {{ ref('int_customer_pairs_decided') }}
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
    select record_key, linked_record_key, match_rule, match_value from key_edges
    union all
    select record_key, linked_record_key, match_rule, match_value from decided_edges
)

select * from final
