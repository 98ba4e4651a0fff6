{#-
    Generic test (model level): the combination of `columns` is unique; fails once per
    duplicated combination with its row count.
-#}
{% test unique_combination(model, columns) %}

select
    {{ columns | join(', ') }},
    count(*) as duplicate_rows
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
