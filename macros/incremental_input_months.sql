{#-
    Monthly models incremental by month (fct_scans_by_dimension) re-aggregate whole months on a
    nightly run, from the month holding the lookback start: a month's percentiles and distinct
    users need all its rows. In a month's first days that is the previous month too, although
    the nightly run rarely changed any of its rows: at 1M users, re-aggregating December on
    1 January took most of a nightly build's time for the model (1.5–2.2 s of about 2 s).

    So such a model keeps, beside its table, a fingerprint of each month of the input it
    aggregates: the rows' count and the sum of one 64-bit hash per row over the columns it reads
    (incremental_rows_fingerprint, which replace_changed compares keys by), from the month
    holding its next lookback start onwards. A nightly run computes the same fingerprints of the
    input as it is now, and re-aggregates from the first month whose fingerprint differs or is
    not kept (a new month); a month whose input is the same as when it was aggregated is left
    as it is, which is what re-aggregating it would have written. The whole of each smaller
    input (a seed) is fingerprinted as well: when one changed, every month from the lookback
    month is re-aggregated, as before. Months before the lookback month are never compared,
    as they were never re-aggregated.

    The fingerprints are a table `input_months_of_<model>` in the schema named after the model's
    with `_incremental_state` (main_incremental_state: out of the way of the marts, and not
    named like one), written by a post-hook after every build of the model, full or incremental,
    in the same transaction. A model without them (the first build after an upgrade) and other
    engines than DuckDB re-aggregate from the lookback month as before; a full build aggregates
    every month, and keeps the fingerprints for the next run.

    incremental_input_months_config(input, date_column, watermark, columns, whole_inputs):
        the config() arguments: `input` the model aggregated by month on `date_column` (a
        date), `watermark` the model's own date column whose newest value sets the lookback
        (incremental_by_date.sql), `columns` the input's columns the model reads,
        `whole_inputs` other models or seeds it reads whole.
    incremental_first_changed_month(): the first month this run (re)builds, as a date
        expression: 1900-01-01 on a full build, 9999-12-01 when no month changed.
    incremental_keep_input_months(): the post-hook that writes the fingerprints.
-#}
{% macro incremental_input_months_config(
    input, date_column, watermark, columns, whole_inputs=[]
) -%}
    {{ return(adapter.dispatch('incremental_input_months_config', 'jobmetrics')(
        input, date_column, watermark, columns, whole_inputs
    )) }}
{%- endmacro %}

{% macro default__incremental_input_months_config(
    input, date_column, watermark, columns, whole_inputs
) -%}
    {#- Other engines re-aggregate from the lookback month (no row hash to compare). -#}
    {{ return({'input_months': {'watermark': watermark}}) }}
{%- endmacro %}

{% macro duckdb__incremental_input_months_config(
    input, date_column, watermark, columns, whole_inputs
) -%}
    {{ return({
        'input_months': {
            'input': input,
            'date_column': date_column,
            'watermark': watermark,
            'columns': columns,
            'whole_inputs': whole_inputs,
        },
        'post_hook': ['{{ incremental_keep_input_months() }}'],
    }) }}
{%- endmacro %}

{% macro incremental_input_months_relation() -%}
    {#- Where this model's fingerprints are kept. -#}
    {{ return(api.Relation.create(
        database=this.database,
        schema=this.schema ~ '_incremental_state',
        identifier='input_months_of_' ~ this.identifier,
    )) }}
{%- endmacro %}

{% macro incremental_input_months_select(spec, first_month) -%}
    {#- Each month's fingerprint of the input from first_month (a date expression) on, and
        the whole inputs' one fingerprint on every row. -#}
    with
    whole_inputs as (
        select
            ''
            {%- for name in spec['whole_inputs'] %}
            || '{{ name }}:' || (
                select count(*) || ':' || coalesce(sum(hash(whole_input)), 0)
                from {{ ref(name) }} as whole_input
            ) || ';'
            {%- endfor %} as whole_inputs_fingerprint
    )
    select
        cast({{ dbt.date_trunc('month', spec['date_column']) }} as date) as input_month,
        {{ incremental_rows_fingerprint(spec['columns'] | join(', ')) }},
        any_value(whole_inputs.whole_inputs_fingerprint) as whole_inputs_fingerprint
    from {{ ref(spec['input']) }}
    cross join whole_inputs
    where {{ spec['date_column'] }} >= {{ first_month }}
    group by 1
{%- endmacro %}

{% macro incremental_lookback_month(watermark) -%}
    {#- The month holding the lookback start of this model's table as it is now. -#}
    cast({{ dbt.date_trunc('month', incremental_lookback_start(this, watermark)) }} as date)
{%- endmacro %}

{% macro incremental_first_changed_month() -%}
    {%- set spec = config.get('input_months') -%}
    {%- if not is_incremental() -%}
    cast('1900-01-01' as date)
    {%- else -%}
    {%- set state = incremental_input_months_relation() -%}
    {%- set kept = adapter.get_relation(
        database=state.database, schema=state.schema, identifier=state.identifier
    ) if execute and 'input' in spec else none -%}
    {%- set first_month = incremental_lookback_month(spec['watermark']) -%}
    {%- if kept is none -%}
    {{ first_month }}
    {%- else -%}
    (
        with
        now_months as (
            {{ incremental_input_months_select(spec, first_month) }}
        ),
        kept_months as (
            select
                input_month,
                row_count,
                rows_hash,
                whole_inputs_fingerprint
            from {{ kept }}
            where input_month >= {{ first_month }}
        )
        -- the first month whose input differs, is new or is gone; none: nothing to rebuild
        select
            coalesce(
                min(coalesce(now_months.input_month, kept_months.input_month)),
                cast('9999-12-01' as date)
            )
        from now_months
        full outer join kept_months
            on now_months.input_month = kept_months.input_month
        where
            now_months.input_month is null
            or kept_months.input_month is null
            or now_months.row_count != kept_months.row_count
            or now_months.rows_hash != kept_months.rows_hash
            or now_months.whole_inputs_fingerprint != kept_months.whole_inputs_fingerprint
    )
    {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{% macro incremental_keep_input_months() -%}
    {#- After the build: the fingerprints from the month holding the next run's lookback start
        (the table as it is now); the next run compares those months. -#}
    {%- set spec = config.get('input_months') -%}
    {%- if execute -%}
    create schema if not exists {{ incremental_input_months_relation().without_identifier() }};
    create or replace table {{ incremental_input_months_relation() }} as
    {{ incremental_input_months_select(spec, incremental_lookback_month(spec['watermark'])) }};
    {%- set about = 'Not a mart: each month of ' ~ spec['input'] ~ ' as ' ~ this.identifier
        ~ ' last aggregated it (macros/incremental_input_months.sql)' %}
    comment on table {{ incremental_input_months_relation() }} is '{{ about }}'
    {%- endif -%}
{%- endmacro %}
