{#-
    Models with one row per entity (a visitor, a user) whose rows change when new days arrive
    are incremental by that key: a nightly run selects the rows of the keys the new days can
    change (each model's header says which) and replaces the rows of those whose rows changed
    (delete+insert on the key, for the changed keys only: incremental_replace_changed.sql). Like
    the models incremental by day (incremental_by_date.sql), it gives the same table as a full
    refresh as long as raw rows older than the lookback do not change. fct_invoices is
    incremental by issue day and re-selects every day, so it always equals a full refresh: an
    invoice changes for weeks after it is issued with no column that says when, and comparing
    all of them costs less than writing them all.

    incremental_by_key_config(key): the config() arguments, per engine.
-#}
{% macro incremental_by_key_config(key) -%}
    {{ return(adapter.dispatch('incremental_by_key_config', 'jobmetrics')(key)) }}
{%- endmacro %}

{% macro default__incremental_by_key_config(key) -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'replace_changed',
        'unique_key': key,
        'on_schema_change': 'fail',
    }) }}
{%- endmacro %}

{% macro spark__incremental_by_key_config(key) -%}
    {#- Parquet tables on Spark cannot replace rows by key (Delta's merge could): a table. -#}
    {{ return({'materialized': 'table'}) }}
{%- endmacro %}
