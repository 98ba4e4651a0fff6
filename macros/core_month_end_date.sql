{#- The last calendar day of the month that starts on month_start (a date). -#}
{% macro core_month_end_date(month_start) %}
    cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, month_start)) }} as date)
{% endmacro %}
