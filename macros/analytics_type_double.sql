{#-
    An 8-byte floating-point type for rates and ratios. dbt.type_float() renders FLOAT, which
    is a 4-byte REAL on DuckDB, too coarse for rates compared across models.
-#}
{% macro analytics_type_double() -%}
    {{ return(adapter.dispatch('analytics_type_double', 'jobmetrics')()) }}
{%- endmacro %}

{% macro default__analytics_type_double() -%}
    double precision
{%- endmacro %}

{% macro duckdb__analytics_type_double() -%}
    double
{%- endmacro %}

{% macro spark__analytics_type_double() -%}
    double
{%- endmacro %}
