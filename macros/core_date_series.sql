{#-
    One row per day (or month) from start_date to end_date inclusive, as `series_date`, for
    every row of `from_relation`, whose columns start_date / end_date are read. Engine-specific:
    DuckDB expands a generated list; the default builds a number series with dbt's portable
    generate_series (up to max_periods) and adds it to the start with dbt.dateadd.
-#}
{% macro core_date_series(datepart, from_relation, start_date, end_date, max_periods=40000) %}
    {{ return(adapter.dispatch('core_date_series')(datepart, from_relation, start_date, end_date, max_periods)) }}
{% endmacro %}

{% macro default__core_date_series(datepart, from_relation, start_date, end_date, max_periods) %}
    select cast(
        {{ dbt.dateadd(datepart, 'period_numbers.generated_number - 1', start_date) }} as date
    ) as series_date
    from {{ from_relation }}
    cross join ({{ dbt.generate_series(max_periods) }}) as period_numbers
    where
        {{ dbt.dateadd(datepart, 'period_numbers.generated_number - 1', start_date) }}
        <= {{ end_date }}
{% endmacro %}

{% macro duckdb__core_date_series(datepart, from_relation, start_date, end_date, max_periods) %}
    select cast(series_at as date) as series_date
    from (
        select unnest(generate_series(
            cast({{ start_date }} as timestamp),
            cast({{ end_date }} as timestamp),
            interval 1 {{ datepart }}
        )) as series_at
        from {{ from_relation }}
    ) as series
{% endmacro %}
