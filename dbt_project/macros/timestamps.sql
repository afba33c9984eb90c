{#- Timestamps as naive UTC `timestamp` columns (every <event>_at in goldloop is UTC). -#}

{#- A timestamp-with-time-zone (or ISO text with an offset) as a UTC timestamp. -#}
{% macro to_utc(column) -%}
    {{ return(adapter.dispatch('to_utc', 'goldloop')(column)) }}
{%- endmacro %}

{% macro default__to_utc(column) -%}
    (cast({{ column }} as timestamp with time zone) at time zone 'UTC')
{%- endmacro %}

{#- DuckDB: the instant's microseconds since the epoch as a naive timestamp, the same value
    without a time-zone conversion per row (`at time zone` goes through ICU: ten times slower,
    0.47 s against 0.04 s for three columns of 2.8M invoices). -#}
{% macro duckdb__to_utc(column) -%}
    make_timestamp(epoch_us(cast({{ column }} as timestamp with time zone)))
{%- endmacro %}

{#- Epoch milliseconds as a UTC timestamp. -#}
{% macro ms_to_utc(column) -%}
    {{ return(adapter.dispatch('ms_to_utc', 'goldloop')(column)) }}
{%- endmacro %}

{% macro duckdb__ms_to_utc(column) -%}
    epoch_ms(cast({{ column }} as bigint))
{%- endmacro %}

{% macro default__ms_to_utc(column) -%}
    (to_timestamp(cast({{ column }} as bigint) / 1000.0) at time zone 'UTC')
{%- endmacro %}

{#- Seconds between two UTC timestamps (later minus earlier), as a number. -#}
{% macro seconds_between(earlier, later) -%}
    (extract(epoch from {{ later }}) - extract(epoch from {{ earlier }}))
{%- endmacro %}

{#- `build_started_at()`: when this dbt invocation started (UTC), as a timestamp literal: the
    same value in every model and hook of the invocation. -#}
{% macro build_started_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}
