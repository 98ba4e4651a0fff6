{#-
    Generic test: the sum of this column per `key` equals the sum of `to_column` per `to_key`
    in another model, exactly (money columns are DECIMAL, so "equal" means to the cent and
    beyond). `filter` / `to_filter` (SQL conditions) filter either side; keys present on one side only fail
    unless the other side's sum would be zero.
    Example: fct_mrr_monthly.ending_mrr per month_end_date reconciles to fct_mrr_daily.mrr
    per date_day.
-#}
{% test reconciles_to(model, column_name, to, to_column, key, to_key, filter=none, to_filter=none) %}

with

this_side as (
    select
        {{ key }} as reconcile_key,
        sum({{ column_name }}) as this_total
    from {{ model }}
    {% if filter %}where {{ filter }}{% endif %}
    group by {{ key }}
),

other_side as (
    select
        {{ to_key }} as reconcile_key,
        sum({{ to_column }}) as other_total
    from {{ to }}
    {% if to_filter %}where {{ to_filter }}{% endif %}
    group by {{ to_key }}
),

compared as (
    select
        coalesce(this_side.reconcile_key, other_side.reconcile_key) as reconcile_key,
        coalesce(this_side.this_total, 0) as this_total,
        coalesce(other_side.other_total, 0) as other_total
    from this_side
    full outer join other_side
        on this_side.reconcile_key = other_side.reconcile_key
)

select * from compared
where this_total != other_total

{% endtest %}
