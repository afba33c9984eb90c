{#- Every pair of customer records with a decision beyond the deterministic rules, one row per
    pair (record_key_a < record_key_b), with the reason:
      force_match / force_split  a data steward's (seed customer_match_overrides), always first
      auto_match                 probabilistic matching links the two, because
        score                      Splink scored the pair at least identity_match_threshold and
                                   the two agree on more than their names (e-mail, phone,
                                   address, company), or at least identity_name_only_threshold;
        sole_candidate             one side is a lone record with nothing but a name and all its
                                   candidates are in the other's rule cluster (score at least
                                   identity_sole_candidate_threshold);
        only_candidates            the two rule clusters are each other's only candidates, one
                                   of them is a single record and they hold no system in
                                   common (score at least identity_only_candidates_threshold);
                                   two clusters of several records each are each a person the
                                   rules already put together across systems: they stay apart;
        lone_duplicate             the same, but the two share a system: that system's second
                                   entry of the person (a CRM contact typed in twice as Bill
                                   and William), score at least
                                   identity_lone_duplicate_threshold;
      review                     scored from identity_review_threshold up, not auto-matched.
    Candidates are the pairs Splink scored (from identity_candidate_threshold up); rule clusters
    are int_customer_rule_clusters. Splink runs on DuckDB only: on other warehouses (or with
    identity_probabilistic off) only the steward's decisions are here.

    Incremental (macros/decided_pairs.sql): a build decides again the pairs of the rule clusters
    whose records, pairs or candidates changed since the last build, and keeps the others. -#}
{%- set probabilistic = target.type == 'duckdb' and var('identity_probabilistic') -%}
{{ config(materialized='incremental', incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ forget_undecided_pairs(scored_pairs_relation(),
        ref('int_customer_rule_clusters'), ref('customer_match_overrides')) }}",
    post_hook="{{ consume_decided_pairs(scored_pairs_relation()) }}") }}
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

-- every scored pair: the candidates
scored_all as (
    {%- if probabilistic %}
    select
        record_key_a,
        record_key_b,
        match_weight,
        match_probability,
        agrees_beyond_names
    from {{ ref('int_customer_pairs_scored') }}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as record_key_a,
        cast(null as {{ dbt.type_string() }}) as record_key_b,
        cast(null as {{ dbt.type_float() }}) as match_weight,
        cast(null as {{ dbt.type_float() }}) as match_probability,
        cast(null as {{ dbt.type_boolean() }}) as agrees_beyond_names
    where 1 = 0
    {%- endif %}
),

-- the pairs this build decides: those touching a dirty record (all in a full build)
scored as (
    select * from scored_all as pairs
    where {{ pair_is_dirty(scored_pairs_relation(), 'pairs') }}
),

rule_clusters as (
    select * from {{ ref('int_customer_rule_clusters') }}
),

scored_clusters as (
    select
        scored.*,
        cluster_a.rule_cluster_key as rule_cluster_a,
        cluster_b.rule_cluster_key as rule_cluster_b,
        least(cluster_a.rule_cluster_size, cluster_b.rule_cluster_size) = 1 as has_single_record
    from scored
    inner join rule_clusters as cluster_a on scored.record_key_a = cluster_a.record_key
    inner join rule_clusters as cluster_b on scored.record_key_b = cluster_b.record_key
),

-- the rule clusters of the pairs decided, whose candidates and systems are read
decided_clusters as (
    select rule_cluster_a as rule_cluster_key from scored_clusters
    union
    select rule_cluster_b from scored_clusters
),

cluster_sources as (
    select distinct rule_cluster_key, source_key from rule_clusters
    where rule_cluster_key in (select rule_cluster_key from decided_clusters)
),

-- per pair of different rule clusters: how many systems (each shop apart) both hold
shared_sources as (
    select
        scored_clusters.record_key_a,
        scored_clusters.record_key_b,
        count(*) as shared_source_count
    from scored_clusters
    inner join cluster_sources as sources_a
        on scored_clusters.rule_cluster_a = sources_a.rule_cluster_key
    inner join cluster_sources as sources_b
        on scored_clusters.rule_cluster_b = sources_b.rule_cluster_key
        and sources_a.source_key = sources_b.source_key
    group by scored_clusters.record_key_a, scored_clusters.record_key_b
),

-- every scored pair of a record of those clusters, with both rule clusters
candidate_clusters as (
    select
        cluster_a.rule_cluster_key as rule_cluster_a,
        cluster_b.rule_cluster_key as rule_cluster_b
    from scored_all
    inner join rule_clusters as cluster_a on scored_all.record_key_a = cluster_a.record_key
    inner join rule_clusters as cluster_b on scored_all.record_key_b = cluster_b.record_key
    where cluster_a.rule_cluster_key in (select rule_cluster_key from decided_clusters)
        or cluster_b.rule_cluster_key in (select rule_cluster_key from decided_clusters)
),

-- every other rule cluster a rule cluster has a scored candidate in
cluster_candidates as (
    select rule_cluster_a as rule_cluster_key, rule_cluster_b as candidate_cluster_key
    from candidate_clusters
    where rule_cluster_a <> rule_cluster_b
    union
    select rule_cluster_b, rule_cluster_a
    from candidate_clusters
    where rule_cluster_a <> rule_cluster_b
),

-- rule clusters whose candidates all lie in one other rule cluster
lone_candidates as (
    select
        cluster_candidates.rule_cluster_key,
        min(cluster_candidates.candidate_cluster_key) as candidate_cluster_key,
        bool_and(coalesce(rule_clusters.is_name_only, false)
            and rule_clusters.rule_cluster_size = 1) as is_lone_name_only_record
    from cluster_candidates
    left join rule_clusters
        on cluster_candidates.rule_cluster_key = rule_clusters.record_key
    group by cluster_candidates.rule_cluster_key
    having count(*) = 1
),

reasoned as (
    select
        scored_clusters.record_key_a,
        scored_clusters.record_key_b,
        scored_clusters.match_weight,
        scored_clusters.match_probability,
        case
            when scored_clusters.match_probability >= {{ var('identity_match_threshold') }}
                and scored_clusters.agrees_beyond_names
                then 'score'
            when scored_clusters.match_probability >= {{ var('identity_name_only_threshold') }}
                then 'score'
            when scored_clusters.match_probability
                    >= {{ var('identity_sole_candidate_threshold') }}
                and ((lone_a.is_lone_name_only_record
                        and lone_a.candidate_cluster_key = scored_clusters.rule_cluster_b)
                    or (lone_b.is_lone_name_only_record
                        and lone_b.candidate_cluster_key = scored_clusters.rule_cluster_a))
                then 'sole_candidate'
            when scored_clusters.match_probability
                    >= {{ var('identity_only_candidates_threshold') }}
                and lone_a.candidate_cluster_key = scored_clusters.rule_cluster_b
                and lone_b.candidate_cluster_key = scored_clusters.rule_cluster_a
                and scored_clusters.has_single_record
                and shared_sources.record_key_a is null
                then 'only_candidates'
            when scored_clusters.match_probability
                    >= {{ var('identity_lone_duplicate_threshold', 0.7) }}
                and lone_a.candidate_cluster_key = scored_clusters.rule_cluster_b
                and lone_b.candidate_cluster_key = scored_clusters.rule_cluster_a
                and scored_clusters.has_single_record
                then 'lone_duplicate'
            when scored_clusters.match_probability >= {{ var('identity_review_threshold') }}
                then 'review'
        end as decision_reason
    from scored_clusters
    left join shared_sources
        on scored_clusters.record_key_a = shared_sources.record_key_a
        and scored_clusters.record_key_b = shared_sources.record_key_b
    left join lone_candidates as lone_a
        on scored_clusters.rule_cluster_a = lone_a.rule_cluster_key
    left join lone_candidates as lone_b
        on scored_clusters.rule_cluster_b = lone_b.rule_cluster_key
),

pairs as (
    select record_key_a, record_key_b from overrides
    union
    select record_key_a, record_key_b from reasoned where decision_reason is not null
),

final as (
    select
        pairs.record_key_a,
        pairs.record_key_b,
        case
            when overrides.decision is not null then overrides.decision
            when reasoned.decision_reason = 'review' then 'review'
            else 'auto_match'
        end as decision,
        case
            when overrides.decision is not null then 'steward'
            else reasoned.decision_reason
        end as decision_reason,
        overrides.detached_record_key,
        reasoned.match_weight,
        reasoned.match_probability,
        -- when the build that decided the pair started (its tests read the pairs decided since)
        {{ build_started_at() }} as built_at
    from pairs
    left join overrides
        on pairs.record_key_a = overrides.record_key_a
        and pairs.record_key_b = overrides.record_key_b
    left join reasoned
        on pairs.record_key_a = reasoned.record_key_a
        and pairs.record_key_b = reasoned.record_key_b
)

select * from final
