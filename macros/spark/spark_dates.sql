{#-
    Spark variants of dbt.dateadd / dbt.datediff with DuckDB's semantics, built on Spark's
    timestampadd and epoch seconds. dbt-spark's own versions go through text and
    to_timestamp(), which is slow to plan and fails on TIMESTAMP_NTZ under ANSI mode.
      dateadd: the timestamp `interval` dateparts later (month ends clamp: Jan 31 + 1 month
               = Feb 28), as TIMESTAMP like DuckDB's date + interval.
      datediff: the number of datepart boundaries between the two (DuckDB's date_diff).
-#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    timestampadd({{ datepart }}, {{ interval }}, {{ from_date_or_timestamp }})
{%- endmacro %}

{% macro spark__datediff(first_date, second_date, datepart) -%}
    {%- set seconds = {'hour': 3600, 'minute': 60, 'second': 1} -%}
    {%- if datepart == 'day' -%}
        datediff(cast({{ second_date }} as date), cast({{ first_date }} as date))
    {%- elif datepart in ('month', 'quarter', 'year') -%}
        {%- if datepart == 'month' -%}
        ((year({{ second_date }}) * 12 + month({{ second_date }}))
            - (year({{ first_date }}) * 12 + month({{ first_date }})))
        {%- elif datepart == 'quarter' -%}
        ((year({{ second_date }}) * 4 + quarter({{ second_date }}))
            - (year({{ first_date }}) * 4 + quarter({{ first_date }})))
        {%- else -%}
        (year({{ second_date }}) - year({{ first_date }}))
        {%- endif -%}
    {%- elif datepart in seconds -%}
        (floor(unix_seconds(cast({{ second_date }} as timestamp_ltz)) / {{ seconds[datepart] }})
            - floor(unix_seconds(cast({{ first_date }} as timestamp_ltz)) / {{ seconds[datepart] }}))
    {%- else -%}
        {{ return(dbt_spark.spark__datediff(first_date, second_date, datepart)) }}
    {%- endif -%}
{%- endmacro %}

{#-
    dbt.date_spine on Spark: the same rows (start_date, then every datepart before end_date) from
    one sequence(). dbt's version numbers the periods with a cross join of two-row unions per bit
    of their count (13 joins for metricflow_time_spine's 7,670 days), which Spark takes seconds
    to plan and run.
-#}
{% macro spark__date_spine(datepart, start_date, end_date) -%}
    {%- set periods = dbt.datediff(start_date, end_date, datepart) -%}
    {%- set period_start = dbt.dateadd(datepart, 'period_index', start_date) -%}
    select {{ period_start }} as date_{{ datepart }}
    from (
        select explode(sequence(0, greatest({{ periods }} - 1, 0))) as period_index
    ) as periods
    where period_index < {{ periods }} and {{ period_start }} <= {{ end_date }}
{%- endmacro %}
