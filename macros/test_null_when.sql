{#-
    Generic test: the column must be NULL exactly when `condition` holds (for example
    end_reason is NULL exactly when ended_at is NULL). Fails on rows breaking either direction.
-#}
{% test null_when(model, column_name, condition) %}

select {{ column_name }} as failing_value
from {{ model }}
where
    ({{ condition }}) and {{ column_name }} is not null
    or not ({{ condition }}) and {{ column_name }} is null

{% endtest %}
