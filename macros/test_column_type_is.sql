{#-
    Generic test: the column has the given type (lower-case engine name, e.g. 'bigint',
    'decimal(10,2)'). Reads one row, so it is cheap on large raw files; fails with the actual
    type. A raw file whose column was written as text or with another precision fails here,
    by table and column name, before any model silently converts it.
-#}
{% test column_type_is(model, column_name, type) %}

with

sampled as (
    select {{ column_name }} as sampled_value
    from {{ model }}
    limit 1
)

select
    {{ core_type_name('sampled_value') }} as actual_type,
    '{{ type | lower }}' as expected_type
from sampled
where {{ core_type_name('sampled_value') }} != '{{ type | lower }}'

{% endtest %}
