{#-
    The engine's lower-case name for the type of an expression (for example 'bigint',
    'decimal(10,2)', 'timestamp'); used by the column_type_is test. Engine-specific.
-#}
{% macro core_type_name(expression) %}
    {{ return(adapter.dispatch('core_type_name')(expression)) }}
{% endmacro %}

{% macro default__core_type_name(expression) %}
    lower(typeof({{ expression }}))
{% endmacro %}

{% macro duckdb__core_type_name(expression) %}
    lower(typeof({{ expression }}))
{% endmacro %}
