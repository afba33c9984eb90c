{#- int_customer_pairs_decided is incremental: a build decides again only the pairs whose
    decision can have changed since the last build, and keeps every other row.

    A pair's decision reads its score, the rule clusters of its two records (key, size, the
    systems they hold, whether a record is a lone name) and the candidates of those two
    clusters (every scored pair of their members, with the partners' rule clusters). So it can
    change only when one of these changed for a record of the two clusters:
      - its pairs: int_customer_pairs_scored logs the records whose pairs each scoring replaced,
        and their partners in the pairs it dropped (`int_customer_pairs_scored__rescored`, a row
        without a record for a scoring of every pair);
      - its rule cluster: int_customer_rule_clusters stamps each row it (re)clusters with the
        build's start (`built_at`);
      - its partner's rule cluster (a candidate cluster renamed): the clusters of the scored
        partners of every record above;
      - a steward's decision: the records of every override, now and at the last build.
    Those records' clusters are dirty: the pre-hook `forget_undecided_pairs` writes their
    records to `<model>__dirty` and deletes their pairs; the model decides the scored pairs
    touching them (reading the candidates of the clusters involved only) and the overrides;
    the post-hook `consume_decided_pairs` keeps what was read (`<model>__consumed`: the latest
    scoring logged, the build's start, the thresholds). A full refresh, a first build, changed
    thresholds, no Splink (Postgres, or `identity_probabilistic` off): every pair. -#}

{#- The thresholds the decisions depend on: changed, every pair is decided again. -#}
{% macro decided_pairs_settings() -%}
    {{ return([var('identity_match_threshold'), var('identity_name_only_threshold'),
               var('identity_sole_candidate_threshold'),
               var('identity_only_candidates_threshold'),
               var('identity_lone_duplicate_threshold', 0.7),
               var('identity_review_threshold')] | join('|')) }}
{%- endmacro %}

{#- The log of the records whose pairs int_customer_pairs_scored replaced. -#}
{% macro rescored_log(scored) -%}
    {{ return(scored.incorporate(path={'identifier': scored.identifier ~ '__rescored'})) }}
{%- endmacro %}

{#- Whether the log exists, asked of the warehouse: the Splink model creates it with its own
    SQL, which dbt's cache of relations never hears of. -#}
{% macro rescored_log_exists(scored) -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set log = rescored_log(scored) -%}
    {%- set found = run_query("select count(*) from information_schema.tables"
        ~ " where table_schema = '" ~ log.schema ~ "' and table_name = '" ~ log.identifier
        ~ "'") -%}
    {{ return(found.rows[0][0] > 0) }}
{%- endmacro %}

{#- Whether this build decides only the dirty pairs (see above). -#}
{% macro decides_dirty_pairs_only(scored) -%}
    {%- if scored is none or not state_is_kept(['consumed'])
            or not rescored_log_exists(scored) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set kept = run_query('select settings, scored_at from ' ~ state_table('consumed')) -%}
    {{ return(kept.rows | length == 1 and kept.rows[0][0] == decided_pairs_settings()
              and kept.rows[0][1] is not none) }}
{%- endmacro %}

{#- Pre-hook: the records whose pairs this build decides (`__dirty`), their rows deleted; every
    row deleted when it decides every pair. `scored` is none without Splink. -#}
{% macro forget_undecided_pairs(scored, rule_clusters, overrides) -%}
    {%- if decides_dirty_pairs_only(scored) %}
    {%- set log = rescored_log(scored) -%}
    {%- set consumed = state_table('consumed') -%}
    drop table if exists {{ state_table('dirty') }};
    create table {{ state_table('dirty') }} as
    with
    changed as (
        select record_key from {{ log }}
        where record_key is not null and scored_at > (select scored_at from {{ consumed }})
        union
        select record_key from {{ rule_clusters }}
        where built_at > (select clustered_at from {{ consumed }})
        union
        select record_key_a from {{ overrides }}
        union
        select record_key_b from {{ overrides }}
        union
        select record_key_a from {{ this }} where decision_reason = 'steward'
        union
        select record_key_b from {{ this }} where decision_reason = 'steward'
    ),
    dirty_clusters as (
        select rule_cluster_key from {{ rule_clusters }}
        where record_key in (select record_key from changed)
        union
        select clusters.rule_cluster_key from {{ scored }} as scored
        inner join {{ rule_clusters }} as clusters on scored.record_key_b = clusters.record_key
        where scored.record_key_a in (select record_key from changed)
        union
        select clusters.rule_cluster_key from {{ scored }} as scored
        inner join {{ rule_clusters }} as clusters on scored.record_key_a = clusters.record_key
        where scored.record_key_b in (select record_key from changed)
    )
    select record_key from changed
    union
    select record_key from {{ rule_clusters }}
    where rule_cluster_key in (select rule_cluster_key from dirty_clusters)
        -- a scoring of every pair since: every record
        or exists (select 1 from {{ log }}
                   where record_key is null
                       and scored_at > (select scored_at from {{ consumed }}));
    {{ log_touched('select record_key from ' ~ state_table('dirty')) }}
    delete from {{ this }}
    where record_key_a in (select record_key from {{ state_table('dirty') }})
        or record_key_b in (select record_key from {{ state_table('dirty') }})
    {%- elif execute and not flags.FULL_REFRESH and this is not none
        and load_relation(this) is not none -%}
    delete from {{ this }}
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{#- In the model: the pair touches a dirty record (always true when every pair is decided). -#}
{% macro pair_is_dirty(scored, alias) -%}
    {%- if decides_dirty_pairs_only(scored) -%}
    ({{ alias }}.record_key_a in (select record_key from {{ state_table('dirty') }})
        or {{ alias }}.record_key_b in (select record_key from {{ state_table('dirty') }}))
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}

{#- Post-hook: what this build read, for the next; the log of the records whose pairs were
    decided again, for the clustering (macros/touched_log.sql), restarted when every pair was. -#}
{% macro consume_decided_pairs(scored) -%}
    {%- if decides_dirty_pairs_only(scored) and load_relation(touched_log(this)) is not none %}
    {{ prune_log(touched_log(this), 'record_key', 'logged_at') }};
    {%- else %}
    {{ restart_touched_log() }};
    {%- endif %}
    drop table if exists {{ state_table('consumed') }};
    create table {{ state_table('consumed') }} as
    select
        {%- if scored is not none and rescored_log_exists(scored) %}
        (select max(scored_at) from {{ rescored_log(scored) }}) as scored_at,
        {%- else %}
        cast(null as {{ dbt.type_timestamp() }}) as scored_at,
        {%- endif %}
        {{ build_started_at() }} as clustered_at,
        cast('{{ decided_pairs_settings() }}' as {{ dbt.type_string() }}) as settings;
    drop table if exists {{ state_table('dirty') }}
{%- endmacro %}

{#- int_customer_pairs_scored, or none where Splink does not run. -#}
{% macro scored_pairs_relation() -%}
    {%- if target.type == 'duckdb' and var('identity_probabilistic') -%}
        {{ return(ref('int_customer_pairs_scored')) }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}
