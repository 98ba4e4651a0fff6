{#-
    Generic test: fails on every row where the column is below zero (NULLs pass; pair it with
    not_null when the column is required). Used on money and counts.
-#}
{% test non_negative(model, column_name) %}

select {{ column_name }} as failing_value
from {{ model }}
where {{ column_name }} < 0

{% endtest %}
