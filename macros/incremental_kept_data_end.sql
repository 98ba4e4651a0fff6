{#-
    Models incremental by month have no day in their rows (int_paid_customer_months,
    fct_signup_cohort_activity, and the other monthly models that call
    incremental_data_end_config), so the lookback start counted from their newest month
    (incremental_rebuild_start on a month column: three days before its first day) always
    reaches into the month before: a nightly run re-selected two or three months where the
    lookback's days lie in one. At 1M users, on the 29 January night, the month before was
    about 0.2 s of each model's 0.6–0.8 s; on the 1st of a month each re-selected three months
    for one new day.

    So such a model keeps the last day of the data it was built from (one row:
    `data_end_of_<model>` in the schema of the fingerprints, main_incremental_state, created when
    a run starts: macros/incremental_input_months.sql), written by a post-hook in the same
    transaction as the model, and a nightly run starts from the month of
    incremental_lookback_days before that day, the first day whose raw rows may have changed
    since (macros/incremental_by_date.sql): mid-month the current month alone. Without the kept
    day (the first build after an upgrade, other engines than DuckDB) it starts from the month
    before, as before.

    incremental_data_end_config(relation, column): the config() arguments: the post-hook that
        keeps max(`column`) of `relation`, a model the model reads whose column ends at the last
        day of the data (a month's month_end_date).
    incremental_kept_rebuild_month(month_column, rebuild_all_when): the first month this run
        rebuilds, as a date expression: 1900-01-01 on a full build, or when the SQL condition
        `rebuild_all_when` holds on an incremental one.
    incremental_rows_differ(stored, current): a condition that holds when two queries' rows
        differ as sets: for `rebuild_all_when`, the rows of a seed or of the slices a model's
        stored rows were built with against those of this run. A monthly model with a row for
        every month and every row of a seed (plan, channel) needs every month rebuilt when the
        seed changed.
-#}
{% macro incremental_data_end_config(relation, column) -%}
    {{ return(adapter.dispatch('incremental_data_end_config', 'jobmetrics')(relation, column)) }}
{%- endmacro %}

{% macro default__incremental_data_end_config(relation, column) -%}
    {#- Nothing is kept (an empty config is not valid): from the month before, as before. -#}
    {{ return({'kept_data_end': {}}) }}
{%- endmacro %}

{% macro duckdb__incremental_data_end_config(relation, column) -%}
    {{ return({
        'kept_data_end': {'relation': relation, 'column': column},
        'post_hook': ['{{ incremental_keep_data_end() }}'],
    }) }}
{%- endmacro %}

{% macro incremental_data_end_relation() -%}
    {{ return(incremental_state_relation('data_end_of_' ~ this.identifier)) }}
{%- endmacro %}

{% macro incremental_kept_rebuild_month(month_column, rebuild_all_when=none) -%}
    {%- set kept = none -%}
    {%- if execute and is_incremental() and config.get('kept_data_end') -%}
    {%- set kept = load_relation(incremental_data_end_relation()) -%}
    {%- endif -%}
    {%- if kept is none -%}
    {%- set month = 'cast(' ~ dbt.date_trunc('month', incremental_rebuild_start(month_column))
        ~ ' as date)' -%}
    {%- else -%}
    {%- set month = 'cast(' ~ dbt.date_trunc('month', incremental_lookback_start(kept, 'data_end'))
        ~ ' as date)' -%}
    {%- endif -%}
    {%- if rebuild_all_when is none or not is_incremental() -%}
    {{ month }}
    {%- else -%}
    case when {{ rebuild_all_when }} then cast('1900-01-01' as date) else {{ month }} end
    {%- endif -%}
{%- endmacro %}

{% macro incremental_rows_differ(stored, current) -%}
    {#- scalar subqueries, not exists: Spark takes those in a select list -#}
    (
        (select count(*) from (({{ stored }}) except ({{ current }})) as only_stored)
        + (select count(*) from (({{ current }}) except ({{ stored }})) as only_current)
        > 0
    )
{%- endmacro %}

{% macro incremental_keep_data_end() -%}
    {%- set spec = config.get('kept_data_end') -%}
    {%- if execute -%}
    create or replace table {{ incremental_data_end_relation() }} as
    select max({{ spec['column'] }}) as data_end from {{ ref(spec['relation']) }};
    comment on table {{ incremental_data_end_relation() }} is 'Not a mart: the last day of the data
    {{- ' ' ~ this.identifier }} was last built from (macros/incremental_kept_data_end.sql)'
    {%- endif -%}
{%- endmacro %}
