{#-
    Long-format slicing: aggregates `relation` once per dimension and stacks the results, so
    a mart answers "by channel", "by segment", ... from one table without double counting.

    Every output row carries `dimension` (the column sliced by, or 'all' for the total) and
    `dimension_value` (that column's value as text, 'all' for the total), then `keys`, then
    one column per entry of `measures` (name → aggregate SQL expression over `relation`).
-#}
{% macro analytics_dimension_rollup(relation, keys, dimensions, measures) -%}
    {%- for dimension in ['all'] + dimensions %}
    select
        {% for key in keys -%}
        {{ key }},
        {% endfor -%}
        '{{ dimension }}' as dimension,
        {% if dimension == 'all' -%}
        'all' as dimension_value,
        {%- else -%}
        cast({{ dimension }} as {{ dbt.type_string() }}) as dimension_value,
        {%- endif %}
        {% for name, expression in measures.items() -%}
        {{ expression }} as {{ name }}{{ ',' if not loop.last }}
        {% endfor -%}
    from {{ relation }}
    group by
        {% for key in keys -%}
        {{ key }}{{ ',' if not loop.last or dimension != 'all' }}
        {% endfor -%}
        {% if dimension != 'all' -%}
        {{ dimension }}
        {%- endif %}
    {% if not loop.last %}
    union all
    {% endif -%}
    {%- endfor %}
{%- endmacro %}
