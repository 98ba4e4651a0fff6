-- The slices of customers a long mart has (its dimension and dimension_value columns), for a
-- "Customers" dropdown: {% raw %}{% set slice_mart = 'fct_...' %}{% endraw %} before the include.
select distinct
    dimension || ':' || dimension_value as slice,
    dimension,
    dimension_value,
    case dimension
        when 'acquisition_channel' then 1
        when 'segment' then 2
        when 'plan' then 3
        when 'starting_plan' then 3
        when 'device' then 4
        else 5
    end as dimension_order
from {{ slice_mart }}
where dimension <> 'all'
order by dimension_order, dimension_value
