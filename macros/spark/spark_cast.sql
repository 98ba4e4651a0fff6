{#-
    Spark has no length-less VARCHAR: the portable type names the YAML uses (`varchar` in
    model contracts and seed column_types) become STRING on Spark. dbt renders contract types
    through cast() and seed columns through create_csv_table(), so both are overridden here
    for Spark only and the YAML stays one file for every engine.
-#}
{% macro spark_type(type) -%}
    {%- if type | trim | lower in ('varchar', 'text', 'character varying') -%}
        string
    {%- else -%}
        {{ type }}
    {%- endif -%}
{%- endmacro %}

{% macro spark__cast(field, type) -%}
    cast({{ field }} as {{ spark_type(type) }})
{%- endmacro %}
