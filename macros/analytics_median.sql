{#- Median of an expression within a group (the 0.5 continuous percentile). -#}
{% macro analytics_median(expression) -%}
    {{ analytics_percentile(expression, 0.5) }}
{%- endmacro %}
