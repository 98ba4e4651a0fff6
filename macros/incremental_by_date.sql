{#-
    Event-sized models (fct_scans, fct_sessions, int_user_activity_days, fct_product_daily) are
    incremental by day: a run re-selects the last `incremental_lookback_days` days (var,
    default 3) up to the newest day in the table, plus anything newer, and replaces the days of
    those whose rows changed (incremental_replace_changed.sql). Late-arriving rows within the
    lookback are picked up; days before it are never touched, so an incremental run gives the
    same table as a full refresh as long as raw rows older than the lookback do not change.

    incremental_by_date_config(date_column): the config() arguments, per engine.
    incremental_rebuild_start(date_column): the first day this run (re)builds, as a date
        expression: the lookback start on an incremental run, 1900-01-01 on a full build.
    incremental_lookback_start(relation, date_column): the lookback start of `relation` as it
        is (1900-01-01 when it is empty): the first day the next run of a model incremental by
        day on date_column re-selects. Every day before it is final.
    incremental_lookback_filter(date_column): `where <date_column> >= <that day>` on an
        incremental run, nothing on a full build.
    incremental_lookback_condition_at(timestamp_column, date_column): the same days as a
        condition on the raw timestamp that date_column is the day of (`<timestamp_column> >=
        <that day at 00:00>` on an incremental run, `true` on a full build): the engine compares
        it with the min/max statistics of the raw Parquet row groups and skips the older ones,
        where a condition on the cast date reads every row.
-#}
{% macro incremental_by_date_config(date_column) -%}
    {{ return(adapter.dispatch('incremental_by_date_config', 'jobmetrics')(date_column)) }}
{%- endmacro %}

{% macro default__incremental_by_date_config(date_column) -%}
    {#- Delete the re-selected days whose rows changed and insert them again (on engines other
        than DuckDB, every re-selected day: incremental_replace_changed.sql). -#}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'replace_changed',
        'unique_key': date_column,
        'on_schema_change': 'fail',
    }) }}
{%- endmacro %}

{% macro spark__incremental_by_date_config(date_column) -%}
    {#- Spark tables in Parquet: one partition per day, overwritten dynamically. -#}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'insert_overwrite',
        'file_format': 'parquet',
        'partition_by': [date_column],
        'on_schema_change': 'fail',
    }) }}
{%- endmacro %}

{% macro incremental_rebuild_start(date_column) -%}
    {%- if is_incremental() -%}
    {{ incremental_lookback_start(this, date_column) }}
    {%- else -%}
    cast('1900-01-01' as date)
    {%- endif -%}
{%- endmacro %}

{% macro incremental_lookback_start(relation, date_column) -%}
    (
        select coalesce(
            cast({{ dbt.dateadd(
                'day',
                -1 * (var('incremental_lookback_days', 3) | int),
                'max(' ~ date_column ~ ')'
            ) }} as date),
            cast('1900-01-01' as date)
        )
        from {{ relation }}
    )
{%- endmacro %}

{% macro incremental_lookback_filter(date_column) -%}
    {%- if is_incremental() -%}
    where {{ date_column }} >= {{ incremental_rebuild_start(date_column) }}
    {%- endif -%}
{%- endmacro %}

{% macro incremental_lookback_condition_at(timestamp_column, date_column) -%}
    {%- if is_incremental() -%}
    {{ timestamp_column }} >= cast({{ incremental_rebuild_start(date_column) }} as timestamp)
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}
