-- fct_mrr_monthly_by_dimension, every identity in one test (one node instead of dozens).
-- Each returned row names the check, the slice and the column that breaks it:
--   bridge           in every slice, starting_mrr + new + expansion + reactivation + contraction
--                    + churned = ending_mrr and net_new_mrr = ending_mrr - starting_mrr (DECIMAL,
--                    so exactly); key, money and count columns are never NULL
--   slices_add_up    in every month, each dimension's slices sum to its 'all' row in every
--                    additive column (each customer month is in exactly one slice per dimension)
--   dense            every slice of a dimension has a row in every month (zeros when empty)
--   all_is_monthly   the 'all' rows equal fct_mrr_monthly, column by column, month by month
--   carried_over     outside 'plan' a customer never changes slice, so a slice's starting MRR
--                    and customers are its previous month's ending ones (0 in the first month)
--   plan_month_end   a plan slice's ending_mrr and paying_customers are the MRR and customers on
--                    that plan at the month end, as fct_plan_performance counts them

{% set money_columns = [
    'starting_mrr', 'new_mrr', 'expansion_mrr', 'reactivation_mrr', 'contraction_mrr',
    'churned_mrr', 'ending_mrr', 'net_new_mrr',
] %}
{% set count_columns = [
    'starting_paying_customers', 'paying_customers', 'new_customers', 'churned_customers',
    'reactivated_customers',
] %}
{% set rate_columns = [
    'arpu', 'logo_churn_rate', 'gross_mrr_churn_rate', 'net_mrr_churn_rate',
    'net_revenue_retention', 'gross_revenue_retention', 'quick_ratio', 'mrr_growth_rate',
] %}
{% set additive_columns = money_columns + count_columns %}
{% set required_columns = [
    'month', 'month_end_date', 'is_complete_month', 'dimension', 'dimension_value',
] + additive_columns %}
{% set monthly_columns = ['month_end_date', 'is_complete_month'] + additive_columns + rate_columns %}
{% set text = dbt.type_string() %}

with

slices as (
    select * from {{ ref('fct_mrr_monthly_by_dimension') }}
),

monthly as (
    select * from {{ ref('fct_mrr_monthly') }}
),

plan_month_ends as (
    select
        performance_month as month,
        plan,
        sum(mrr) as mrr,
        sum(customers) as customers
    from {{ ref('fct_plan_performance') }}
    group by performance_month, plan
),

bridge as (
    select
        'bridge' as check_name,
        month,
        dimension,
        dimension_value,
        'ending_mrr' as column_name,
        cast(ending_mrr as {{ text }}) as found,
        cast(
            starting_mrr + new_mrr + expansion_mrr + reactivation_mrr + contraction_mrr
            + churned_mrr as {{ text }}
        ) as expected
    from slices
    where
        starting_mrr + new_mrr + expansion_mrr + reactivation_mrr + contraction_mrr
        + churned_mrr != ending_mrr
        or net_new_mrr != ending_mrr - starting_mrr
    {% for column in required_columns %}
    union all
    select
        'bridge' as check_name,
        month,
        dimension,
        dimension_value,
        '{{ column }}' as column_name,
        'NULL' as found,
        'not NULL' as expected
    from slices
    where {{ column }} is null
    {% endfor %}
),

totals as (
    select * from slices
    where dimension = 'all'
),

slice_sums as (
    select
        month,
        dimension,
        {% for column in additive_columns %}
        sum({{ column }}) as {{ column }},
        {% endfor %}
        count(*) as slice_count
    from slices
    group by month, dimension
),

dimension_sizes as (
    select
        dimension,
        count(distinct dimension_value) as slice_count
    from slices
    group by dimension
),

dense as (
    select
        'dense' as check_name,
        slice_sums.month,
        slice_sums.dimension,
        'every value' as dimension_value,
        'dimension_value' as column_name,
        cast(slice_sums.slice_count as {{ text }}) as found,
        cast(dimension_sizes.slice_count as {{ text }}) as expected
    from slice_sums
    inner join dimension_sizes
        on slice_sums.dimension = dimension_sizes.dimension
    where slice_sums.slice_count != dimension_sizes.slice_count
),

slices_add_up as (
    {% for column in additive_columns %}
    select
        'slices_add_up' as check_name,
        totals.month,
        coalesce(slice_sums.dimension, 'missing dimension') as dimension,
        'sum of slices' as dimension_value,
        '{{ column }}' as column_name,
        cast(slice_sums.{{ column }} as {{ text }}) as found,
        cast(totals.{{ column }} as {{ text }}) as expected
    from totals
    left join slice_sums
        on totals.month = slice_sums.month
    where
        slice_sums.{{ column }} is null
        or slice_sums.{{ column }} != totals.{{ column }}
    union all
    {% endfor %}
    select
        'slices_add_up' as check_name,
        month,
        'every dimension' as dimension,
        'all' as dimension_value,
        'dimension' as column_name,
        cast(count(distinct dimension) as {{ text }}) as found,
        '6' as expected
    from slices
    group by month
    having count(distinct dimension) != 6
),

all_is_monthly as (
    {% for column in monthly_columns %}
    select
        'all_is_monthly' as check_name,
        coalesce(totals.month, monthly.month) as month,
        'all' as dimension,
        'all' as dimension_value,
        '{{ column }}' as column_name,
        cast(totals.{{ column }} as {{ text }}) as found,
        cast(monthly.{{ column }} as {{ text }}) as expected
    from totals
    full outer join monthly
        on totals.month = monthly.month
    where totals.{{ column }} is distinct from monthly.{{ column }}
    {% if not loop.last %}
    union all
    {% endif %}
    {% endfor %}
),

with_previous as (
    select
        month,
        dimension,
        dimension_value,
        starting_mrr,
        starting_paying_customers,
        coalesce(
            lag(ending_mrr) over (partition by dimension, dimension_value order by month), 0
        ) as previous_ending_mrr,
        coalesce(
            lag(paying_customers) over (partition by dimension, dimension_value order by month), 0
        ) as previous_paying_customers
    from slices
    where dimension != 'plan'
),

carried_over as (
    select
        'carried_over' as check_name,
        month,
        dimension,
        dimension_value,
        'starting_mrr' as column_name,
        cast(starting_mrr as {{ text }}) as found,
        cast(previous_ending_mrr as {{ text }}) as expected
    from with_previous
    where starting_mrr != previous_ending_mrr
    union all
    select
        'carried_over' as check_name,
        month,
        dimension,
        dimension_value,
        'starting_paying_customers' as column_name,
        cast(starting_paying_customers as {{ text }}) as found,
        cast(previous_paying_customers as {{ text }}) as expected
    from with_previous
    where starting_paying_customers != previous_paying_customers
),

plan_slices as (
    select * from slices
    where dimension = 'plan'
),

plan_month_end as (
    select
        'plan_month_end' as check_name,
        coalesce(plan_slices.month, plan_month_ends.month) as month,
        'plan' as dimension,
        coalesce(plan_slices.dimension_value, plan_month_ends.plan) as dimension_value,
        'ending_mrr, paying_customers' as column_name,
        cast(plan_slices.ending_mrr as {{ text }}) || ', '
        || cast(plan_slices.paying_customers as {{ text }}) as found,
        cast(plan_month_ends.mrr as {{ text }}) || ', '
        || cast(plan_month_ends.customers as {{ text }}) as expected
    from plan_slices
    full outer join plan_month_ends
        on
            plan_slices.month = plan_month_ends.month
            and plan_slices.dimension_value = plan_month_ends.plan
    where
        coalesce(plan_slices.ending_mrr, 0) != coalesce(plan_month_ends.mrr, 0)
        or coalesce(plan_slices.paying_customers, 0) != coalesce(plan_month_ends.customers, 0)
),

final as (
    select * from bridge
    union all
    select * from slices_add_up
    union all
    select * from dense
    union all
    select * from all_is_monthly
    union all
    select * from carried_over
    union all
    select * from plan_month_end
)

select * from final
