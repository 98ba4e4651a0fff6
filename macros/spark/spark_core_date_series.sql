{#-
    Spark variant of core_date_series (macros/core_date_series.sql): one row per day or month
    from start_date to end_date inclusive, as `series_date`, expanded with sequence().
-#}
{% macro spark__core_date_series(datepart, from_relation, start_date, end_date, max_periods) %}
    select explode(sequence(
        cast({{ start_date }} as date),
        cast({{ end_date }} as date),
        interval 1 {{ datepart }}
    )) as series_date
    from {{ from_relation }}
{% endmacro %}
