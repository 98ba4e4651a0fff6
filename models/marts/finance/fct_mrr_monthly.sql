-- One row per month of the data: the MRR bridge (starting MRR + movements = ending MRR),
-- customer counts and the SaaS rates derived from them. Sums the customer months
-- (int_customer_mrr_months, published as fct_customer_mrr_monthly), so every figure here is
-- the sum of the customer rows of that month. Rates are NULL when their denominator is 0.
-- No rows when the raw data holds no subscriptions or invoices (dim_data_coverage).

with

months as (
    select
        month,
        month_end_date,
        is_complete_month
    from {{ ref('int_data_months') }}
    -- no billing data (dim_data_coverage): no rows, not months of MRR 0
    where {{ core_data_area_present('billing') }}
),

customer_months as (
    select * from {{ ref('int_customer_mrr_months') }}
),

monthly_sums as (
    select
        month,
        sum(previous_mrr) as starting_mrr,
        sum(mrr) as ending_mrr,
        sum(case when previous_mrr > 0 then 1 else 0 end) as starting_paying_customers,
        sum(case when mrr > 0 then 1 else 0 end) as paying_customers,
        {{ core_mrr_bridge_sums() }}
    from customer_months
    group by month
),

filled as (
    -- months in which nobody pays still get a row, with zeros
    select
        months.month,
        months.month_end_date,
        months.is_complete_month,
        coalesce(monthly_sums.starting_mrr, 0) as starting_mrr,
        coalesce(monthly_sums.new_mrr, 0) as new_mrr,
        coalesce(monthly_sums.expansion_mrr, 0) as expansion_mrr,
        coalesce(monthly_sums.reactivation_mrr, 0) as reactivation_mrr,
        coalesce(monthly_sums.contraction_mrr, 0) as contraction_mrr,
        coalesce(monthly_sums.churned_mrr, 0) as churned_mrr,
        coalesce(monthly_sums.ending_mrr, 0) as ending_mrr,
        coalesce(monthly_sums.starting_paying_customers, 0) as starting_paying_customers,
        coalesce(monthly_sums.paying_customers, 0) as paying_customers,
        coalesce(monthly_sums.new_customers, 0) as new_customers,
        coalesce(monthly_sums.churned_customers, 0) as churned_customers,
        coalesce(monthly_sums.reactivated_customers, 0) as reactivated_customers
    from months
    left join monthly_sums
        on months.month = monthly_sums.month
),

final as (
    select
        cast(month as date) as month,
        cast(month_end_date as date) as month_end_date,
        is_complete_month,
        cast(starting_mrr as decimal(18, 6)) as starting_mrr,
        cast(new_mrr as decimal(18, 6)) as new_mrr,
        cast(expansion_mrr as decimal(18, 6)) as expansion_mrr,
        cast(reactivation_mrr as decimal(18, 6)) as reactivation_mrr,
        cast(contraction_mrr as decimal(18, 6)) as contraction_mrr,
        cast(churned_mrr as decimal(18, 6)) as churned_mrr,
        cast(ending_mrr as decimal(18, 6)) as ending_mrr,
        cast(ending_mrr - starting_mrr as decimal(18, 6)) as net_new_mrr,
        cast(ending_mrr * 12 as decimal(18, 6)) as arr,
        cast(starting_paying_customers as bigint) as starting_paying_customers,
        cast(paying_customers as bigint) as paying_customers,
        cast(new_customers as bigint) as new_customers,
        cast(churned_customers as bigint) as churned_customers,
        cast(reactivated_customers as bigint) as reactivated_customers,
        {{ core_mrr_rates() }}
    from filled
)

select * from final
