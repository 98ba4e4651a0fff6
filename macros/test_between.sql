{#-
    Generic test: fails on every row where the column lies outside [min_value, max_value]
    (inclusive; NULLs pass). Either bound may be omitted.
-#}
{% test between(model, column_name, min_value=none, max_value=none) %}

select {{ column_name }} as failing_value
from {{ model }}
where
    {% if min_value is not none %}{{ column_name }} < {{ min_value }}{% else %}false{% endif %}
    or {% if max_value is not none %}{{ column_name }} > {{ max_value }}{% else %}false{% endif %}

{% endtest %}
