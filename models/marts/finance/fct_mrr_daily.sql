-- One row per calendar day of the data: MRR at the end of the day, ARR, paying customers and
-- the day's MRR movements (the monthly rules applied between consecutive day ends).
-- Built from the customer change days only: MRR is the running sum of the daily net change,
-- so the cost grows with the number of subscription events, not customers x days.
-- No rows when the raw data holds no subscriptions or invoices (dim_data_coverage).

with

days as (
    select date_day from {{ ref('int_data_days') }}
    -- no billing data (dim_data_coverage): no rows, not days of MRR 0
    where {{ core_data_area_present('billing') }}
),

change_days as (
    select * from {{ ref('int_customer_mrr_change_days') }}
),

daily_changes as (
    select
        change_date,
        sum(mrr_change) as net_mrr_change,
        {{ core_mrr_bridge_sums() }}
    from change_days
    group by change_date
),

filled as (
    select
        days.date_day,
        coalesce(daily_changes.net_mrr_change, 0) as net_mrr_change,
        coalesce(daily_changes.new_mrr, 0) as new_mrr,
        coalesce(daily_changes.expansion_mrr, 0) as expansion_mrr,
        coalesce(daily_changes.reactivation_mrr, 0) as reactivation_mrr,
        coalesce(daily_changes.contraction_mrr, 0) as contraction_mrr,
        coalesce(daily_changes.churned_mrr, 0) as churned_mrr,
        coalesce(daily_changes.new_customers, 0) as new_customers,
        coalesce(daily_changes.churned_customers, 0) as churned_customers,
        coalesce(daily_changes.reactivated_customers, 0) as reactivated_customers
    from days
    left join daily_changes
        on days.date_day = daily_changes.change_date
),

running as (
    select
        *,
        sum(net_mrr_change) over (
            order by date_day rows between unbounded preceding and current row
        ) as mrr,
        sum(new_customers + reactivated_customers - churned_customers) over (
            order by date_day rows between unbounded preceding and current row
        ) as paying_customers
    from filled
),

final as (
    select
        cast(date_day as date) as date_day,
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month,
        cast(mrr as decimal(18, 6)) as mrr,
        cast(mrr * 12 as decimal(18, 6)) as arr,
        cast(paying_customers as bigint) as paying_customers,
        cast(new_mrr as decimal(18, 6)) as new_mrr,
        cast(expansion_mrr as decimal(18, 6)) as expansion_mrr,
        cast(contraction_mrr as decimal(18, 6)) as contraction_mrr,
        cast(churned_mrr as decimal(18, 6)) as churned_mrr,
        cast(reactivation_mrr as decimal(18, 6)) as reactivation_mrr,
        cast(net_mrr_change as decimal(18, 6)) as net_new_mrr,
        cast(new_customers as bigint) as new_customers,
        cast(churned_customers as bigint) as churned_customers,
        cast(reactivated_customers as bigint) as reactivated_customers
    from running
)

select * from final
