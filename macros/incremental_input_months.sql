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
    in the same transaction. The schema is created when a run starts (on-run-start): two models
    that created it at the same time would fail the second with a write-write conflict. A model
    without them (the first build after an upgrade) and other engines than DuckDB re-aggregate
    from the lookback month as before; a full build aggregates every month, and keeps the
    fingerprints for the next run.

    A model whose older months can change long after they ended (fct_funnel_monthly: a signup
    month's users can still convert, or be retained, for two months) gives no `watermark`: every
    month of its input is fingerprinted and compared, and a month that changed is aggregated
    again however old it is. Without the fingerprints it aggregates every month.

    A model that recomputes what the days of its lookback touch (fct_user_engagement: the users
    active on them) keeps the same fingerprints by day, of one or more inputs: a nightly run
    then starts from the first day whose input changed, usually the new one, instead of the
    lookback start. The table is `input_days_of_<model>`. So does int_visitors, which reads the
    sessions of the lookback days: a day whose sessions are the same as when it read them
    changes no visitor. At 1M users it then reads 90k sessions a night instead of 410k, and
    takes 0.47–0.54 s instead of 0.84–0.87 s. (fct_scans and fct_sessions, which select the
    lookback's raw rows too, gain nothing: fingerprinting the days costs what it saves.)

    incremental_input_months_config(input, date_column, watermark, columns, whole_inputs):
        the config() arguments: `input` the model aggregated by month on `date_column` (a
        date), `watermark` the model's own date column whose newest value sets the lookback
        (incremental_by_date.sql), or none to compare every month, `columns` the input's
        columns the model reads, `whole_inputs` other models or seeds it reads whole: a name
        (every column is fingerprinted) or {'name': ..., 'columns': [...]}, the columns it
        reads of one whose other columns change every night (dim_data_coverage's row counts).
    incremental_input_days_config(inputs, watermark): the same by day, for `inputs` a list of
        {'input': ..., 'date_column': ..., 'columns': [...]}, fingerprinted together.
    incremental_first_changed_period(): the first month (day, by the model's config) this run
        (re)builds, as a date expression: 1900-01-01 on a full build, 9999-12-01 when none
        changed.
    incremental_changed_condition_at(timestamp_column): the same day as a condition on a raw
        timestamp (`true` on a full build), as incremental_lookback_condition_at
        (incremental_by_date.sql) gives the lookback start: Parquet row groups before it are
        skipped.
    incremental_keep_input_months(): the post-hook that writes the fingerprints (either grain).
    incremental_create_state_schema(): the on-run-start hook that creates their schema.
    incremental_state_relation(identifier): a table this model keeps there (its fingerprints,
        its data end: incremental_kept_data_end.sql).
-#}
{% macro incremental_input_months_config(
    input, date_column, watermark, columns, whole_inputs=[]
) -%}
    {{ return(incremental_input_periods_config(
        'month',
        [{'input': input, 'date_column': date_column, 'columns': columns}],
        watermark,
        whole_inputs,
    )) }}
{%- endmacro %}

{% macro incremental_input_days_config(inputs, watermark) -%}
    {{ return(incremental_input_periods_config('day', inputs, watermark, [])) }}
{%- endmacro %}

{% macro incremental_input_periods_config(grain, inputs, watermark, whole_inputs) -%}
    {{ return(adapter.dispatch('incremental_input_periods_config', 'jobmetrics')(
        grain, inputs, watermark, whole_inputs
    )) }}
{%- endmacro %}

{% macro default__incremental_input_periods_config(grain, inputs, watermark, whole_inputs) -%}
    {#- Other engines start from the lookback (no row hash to compare). -#}
    {{ return({'input_periods': {'grain': grain, 'watermark': watermark}}) }}
{%- endmacro %}

{% macro duckdb__incremental_input_periods_config(grain, inputs, watermark, whole_inputs) -%}
    {{ return({
        'input_periods': {
            'grain': grain,
            'inputs': inputs,
            'watermark': watermark,
            'whole_inputs': whole_inputs,
        },
        'post_hook': ['{{ incremental_keep_input_months() }}'],
    }) }}
{%- endmacro %}

{% macro incremental_state_relation(identifier) -%}
    {{ return(api.Relation.create(
        database=this.database,
        schema=this.schema ~ '_incremental_state',
        identifier=identifier,
    )) }}
{%- endmacro %}

{% macro incremental_input_months_relation() -%}
    {#- Where this model's fingerprints are kept: input_months_of_<model> (input_days_of_). -#}
    {%- set grain = (config.get('input_periods') or {}).get('grain', 'month') -%}
    {{ return(incremental_state_relation('input_' ~ grain ~ 's_of_' ~ this.identifier)) }}
{%- endmacro %}

{% macro incremental_input_months_select(spec, first_period) -%}
    {#- Each month's (day's) fingerprint of the inputs from first_period (a date expression)
        on, and the whole inputs' one fingerprint on every row. -#}
    {%- set period = 'input_' ~ spec['grain'] -%}
    with
    whole_inputs as (
        select
            ''
            {%- for whole_input in spec['whole_inputs'] %}
            {%- set name = whole_input if whole_input is string else whole_input['name'] %}
            {%- set hashed = 'whole_input' if whole_input is string
                else whole_input['columns'] | join(', ') %}
            || '{{ name }}:' || (
                select count(*) || ':' || coalesce(sum(hash({{ hashed }})), 0)
                from {{ ref(name) }} as whole_input
            ) || ';'
            {%- endfor %} as whole_inputs_fingerprint
    ),
    each_input as (
        {%- for input in spec['inputs'] %}
        select
            cast({{ dbt.date_trunc(spec['grain'], input['date_column']) }} as date) as period,
            {{ incremental_rows_fingerprint(input['columns'] | join(', ')) }}
        from {{ ref(input['input']) }}
        where {{ input['date_column'] }} >= {{ first_period }}
        group by 1
        {% if not loop.last %}union all{% endif %}
        {%- endfor %}
    )
    select
        each_input.period as {{ period }},
        cast(sum(each_input.row_count) as bigint) as row_count,
        sum(each_input.rows_hash) as rows_hash,
        any_value(whole_inputs.whole_inputs_fingerprint) as whole_inputs_fingerprint
    from each_input
    cross join whole_inputs
    group by 1
{%- endmacro %}

{% macro incremental_lookback_month(watermark, grain='month') -%}
    {#- The month (day) holding the lookback start of this model's table as it is now; without
        a watermark, the first month (every month is compared). -#}
    {%- if watermark is none -%}
    cast('1900-01-01' as date)
    {%- else -%}
    cast({{ dbt.date_trunc(grain, incremental_lookback_start(this, watermark)) }} as date)
    {%- endif -%}
{%- endmacro %}

{% macro incremental_first_changed_period() -%}
    {#- (no config in a dbt unit test: from the lookback start, or every period) -#}
    {%- set spec = config.get('input_periods') or {} -%}
    {%- if not is_incremental() -%}
    cast('1900-01-01' as date)
    {%- else -%}
    {%- set kept = none -%}
    {%- if execute and 'inputs' in spec -%}
    {%- set kept = load_relation(incremental_input_months_relation()) -%}
    {%- endif -%}
    {%- set first_period = incremental_lookback_month(
        spec.get('watermark'), spec.get('grain', 'month')
    ) -%}
    {%- set period = 'input_' ~ spec.get('grain', 'month') -%}
    {%- if kept is none -%}
    {{ first_period }}
    {%- else -%}
    (
        with
        now_periods as (
            {{ incremental_input_months_select(spec, first_period) }}
        ),
        kept_periods as (
            select
                {{ period }},
                row_count,
                rows_hash,
                whole_inputs_fingerprint
            from {{ kept }}
            where {{ period }} >= {{ first_period }}
        )
        -- the first period whose input differs, is new or is gone; none: nothing to rebuild
        select
            coalesce(
                min(coalesce(now_periods.{{ period }}, kept_periods.{{ period }})),
                cast('9999-12-01' as date)
            )
        from now_periods
        full outer join kept_periods
            on now_periods.{{ period }} = kept_periods.{{ period }}
        where
            now_periods.{{ period }} is null
            or kept_periods.{{ period }} is null
            or now_periods.row_count != kept_periods.row_count
            or now_periods.rows_hash != kept_periods.rows_hash
            or now_periods.whole_inputs_fingerprint != kept_periods.whole_inputs_fingerprint
    )
    {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{% macro incremental_changed_condition_at(timestamp_column) -%}
    {%- if is_incremental() -%}
    {{ timestamp_column }} >= cast({{ incremental_first_changed_period() }} as timestamp)
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}

{% macro incremental_keep_input_months() -%}
    {#- After the build: the fingerprints from the month (day) holding the next run's lookback
        start (the table as it is now); the next run compares those. -#}
    {%- set spec = config.get('input_periods') -%}
    {%- if execute -%}
    {%- set first_period = incremental_lookback_month(spec['watermark'], spec['grain']) -%}
    create or replace table {{ incremental_input_months_relation() }} as
    {{ incremental_input_months_select(spec, first_period) }};
    {%- set about = 'Not a mart: each ' ~ spec['grain'] ~ ' of '
        ~ spec['inputs'] | map(attribute='input') | join(' and ') ~ ' as ' ~ this.identifier
        ~ ' last read it (macros/incremental_input_months.sql)' %}
    comment on table {{ incremental_input_months_relation() }} is '{{ about }}'
    {%- endif -%}
{%- endmacro %}

{% macro incremental_create_state_schema() -%}
    {{ return(adapter.dispatch('incremental_create_state_schema', 'jobmetrics')()) }}
{%- endmacro %}

{% macro default__incremental_create_state_schema() -%}
    {#- Other engines keep no fingerprints. -#}
    select 1
{%- endmacro %}

{% macro duckdb__incremental_create_state_schema() -%}
    create schema if not exists {{ api.Relation.create(
        database=target.database, schema=target.schema ~ '_incremental_state'
    ) }}
{%- endmacro %}
