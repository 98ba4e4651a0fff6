{#-
    Whether a funnel month is mature (docs analytics_is_mature): the month ended at least 60
    days before the end of the data, so every window of its signups has closed (30 days to
    convert, then 30 days to be retained). `last_date` is the data's last day, which the data
    covers to its end. Stated once: fct_funnel_monthly computes it, and compares its stored
    rows with it to find the months a new day matured.
-#}
{% macro analytics_funnel_is_mature(funnel_month, last_date) -%}
    {{ dbt.dateadd('day', 60, dbt.dateadd('month', 1, funnel_month)) }}
    <= {{ dbt.dateadd('day', 1, last_date) }}
{%- endmacro %}
