-- Every figure of fct_mrr_monthly must be the sum of that month's fct_customer_mrr_monthly
-- rows (the company bridge is the sum of the customer bridges), and each customer's
-- previous_mrr must be their mrr of the month before (0 in their first row); months with no
-- customer rows must be all zero. Returned rows are months or customer-months that disagree.

with

customer_months as (
    select
        *,
        coalesce(
            lag(mrr) over (partition by user_id order by month), 0
        ) as prior_row_mrr,
        lag(month) over (partition by user_id order by month) as prior_row_month
    from {{ ref('fct_customer_mrr_monthly') }}
),

broken_chains as (
    select
        cast(user_id as {{ dbt.type_string() }}) as problem,
        month
    from customer_months
    where
        previous_mrr != prior_row_mrr
        or mrr_change != mrr - previous_mrr
        or (
            prior_row_month is not null
            and prior_row_month != cast({{ dbt.dateadd('month', -1, 'month') }} as date)
        )
),

sums as (
    select
        month,
        sum(previous_mrr) as starting_mrr,
        sum(case when movement = 'new' then mrr_change else 0 end) as new_mrr,
        sum(case when movement = 'expansion' then mrr_change else 0 end) as expansion_mrr,
        sum(case when movement = 'reactivation' then mrr_change else 0 end) as reactivation_mrr,
        sum(case when movement = 'contraction' then mrr_change else 0 end) as contraction_mrr,
        sum(case when movement = 'churn' then mrr_change else 0 end) as churned_mrr,
        sum(mrr) as ending_mrr,
        sum(case when mrr > 0 then 1 else 0 end) as paying_customers,
        sum(case when movement = 'churn' then 1 else 0 end) as churned_customers,
        sum(case when movement = 'reactivation' then 1 else 0 end) as reactivated_customers
    from customer_months
    group by month
),

mismatched_months as (
    select
        'month' as problem,
        monthly.month
    from {{ ref('fct_mrr_monthly') }} as monthly
    left join sums
        on monthly.month = sums.month
    where
        monthly.starting_mrr != coalesce(sums.starting_mrr, 0)
        or monthly.new_mrr != coalesce(sums.new_mrr, 0)
        or monthly.expansion_mrr != coalesce(sums.expansion_mrr, 0)
        or monthly.reactivation_mrr != coalesce(sums.reactivation_mrr, 0)
        or monthly.contraction_mrr != coalesce(sums.contraction_mrr, 0)
        or monthly.churned_mrr != coalesce(sums.churned_mrr, 0)
        or monthly.ending_mrr != coalesce(sums.ending_mrr, 0)
        or monthly.paying_customers != coalesce(sums.paying_customers, 0)
        or monthly.churned_customers != coalesce(sums.churned_customers, 0)
        or monthly.reactivated_customers != coalesce(sums.reactivated_customers, 0)
),

final as (
    select * from broken_chains
    union all
    select * from mismatched_months
)

select * from final
