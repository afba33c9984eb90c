{#- Every pair of customer records with a decision beyond the deterministic rules:
      force_match / force_split  a data steward's (seed customer_match_overrides), always first
      auto_match                 Splink scored it at least identity_match_threshold
      review                     Splink scored it from identity_review_threshold up to that
    One row per pair (record_key_a < record_key_b). Splink runs on DuckDB only: on other
    warehouses (or with identity_probabilistic off) only the steward's decisions are here. -#}
{%- set probabilistic = target.type == 'duckdb' and var('identity_probabilistic') -%}
with

overrides as (
    select
        case when record_key_a < record_key_b then record_key_a else record_key_b end
            as record_key_a,
        case when record_key_a < record_key_b then record_key_b else record_key_a end
            as record_key_b,
        record_key_b as detached_record_key,
        decision
    from {{ ref('customer_match_overrides') }}
),

scored as (
    {%- if probabilistic %}
    select
        record_key_a,
        record_key_b,
        match_weight,
        match_probability
    from {{ ref('int_customer_pairs_scored') }}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as record_key_a,
        cast(null as {{ dbt.type_string() }}) as record_key_b,
        cast(null as {{ dbt.type_float() }}) as match_weight,
        cast(null as {{ dbt.type_float() }}) as match_probability
    where 1 = 0
    {%- endif %}
),

pairs as (
    select record_key_a, record_key_b from overrides
    union
    select record_key_a, record_key_b from scored
),

final as (
    select
        pairs.record_key_a,
        pairs.record_key_b,
        case
            when overrides.decision is not null then overrides.decision
            when scored.match_probability >= {{ var('identity_match_threshold') }}
                then 'auto_match'
            else 'review'
        end as decision,
        overrides.detached_record_key,
        scored.match_weight,
        scored.match_probability
    from pairs
    left join overrides
        on pairs.record_key_a = overrides.record_key_a
        and pairs.record_key_b = overrides.record_key_b
    left join scored
        on pairs.record_key_a = scored.record_key_a
        and pairs.record_key_b = scored.record_key_b
)

select * from final
