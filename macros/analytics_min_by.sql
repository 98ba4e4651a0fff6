{#-
    Aggregate: the value of `value` on the row with the smallest `order_by` in the group
    (ties: any of the tied rows). One pass instead of a row_number() window and a self-join.
    DuckDB, Spark 3+, Snowflake and Trino spell it min_by; engines without it need their own
    implementation here.
-#}
{% macro analytics_min_by(value, order_by) -%}
    {{ return(adapter.dispatch('analytics_min_by', 'jobmetrics')(value, order_by)) }}
{%- endmacro %}

{% macro default__analytics_min_by(value, order_by) -%}
    min_by({{ value }}, {{ order_by }})
{%- endmacro %}
