{#-
    Continuous percentile (linear interpolation) of an expression within a group:
    `{{ analytics_percentile('processing_ms', 0.95) }}`. Dispatched because every engine
    spells it differently; the default is the SQL-standard ordered-set aggregate.
-#}
{% macro analytics_percentile(expression, fraction) -%}
    {{ return(adapter.dispatch('analytics_percentile', 'jobmetrics')(expression, fraction)) }}
{%- endmacro %}

{% macro default__analytics_percentile(expression, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__analytics_percentile(expression, fraction) -%}
    quantile_cont({{ expression }}, {{ fraction }})
{%- endmacro %}

{% macro spark__analytics_percentile(expression, fraction) -%}
    percentile({{ expression }}, {{ fraction }})
{%- endmacro %}
