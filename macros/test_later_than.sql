{#-
    Generic test: fails on every row where the column is not strictly later than other_column
    (for example ended_at <= started_at). Rows where either is NULL pass.
-#}
{% test later_than(model, column_name, other_column) %}

select
    {{ column_name }} as failing_value,
    {{ other_column }} as other_value
from {{ model }}
where {{ column_name }} <= {{ other_column }}

{% endtest %}
