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
