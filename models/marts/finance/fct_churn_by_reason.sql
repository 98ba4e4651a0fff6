-- One row per month and end reason: the customers who churned in the month (movement `churn`
-- in fct_customer_mrr_monthly: paying at the previous month end, nothing at this one) and the
-- MRR they took with them, split by why their paying ended. Every end reason that ever ends a
-- churn gets a row for every month of the data (zeros when nobody churned for it), so the rows
-- of a month add up to fct_mrr_monthly's churned_customers and churned_mrr.
--
-- Why a customer month churned (the end_reason of the subscription that left them at zero, and
-- its churn type) is decided once, in int_customer_churns; churned_mrr is minus their MRR at
-- the previous month end (negative, as in fct_mrr_monthly).

with

months as (
    select
        month,
        month_end_date,
        is_complete_month
    from {{ ref('int_data_months') }}
),

churn_reasons as (
    select
        user_id,
        month,
        mrr_change,
        end_reason,
        churn_type
    from {{ ref('int_customer_churns') }}
),

reason_months as (
    select
        month,
        churn_type,
        end_reason,
        count(*) as churned_customers,
        sum(mrr_change) as churned_mrr
    from churn_reasons
    group by month, churn_type, end_reason
),

reasons as (
    select distinct
        churn_type,
        end_reason
    from churn_reasons
),

filled as (
    select
        months.month,
        months.month_end_date,
        months.is_complete_month,
        reasons.churn_type,
        reasons.end_reason,
        coalesce(reason_months.churned_customers, 0) as churned_customers,
        coalesce(reason_months.churned_mrr, 0) as churned_mrr
    from months
    cross join reasons
    left join reason_months
        on
            months.month = reason_months.month
            and reasons.end_reason is not distinct from reason_months.end_reason
),

final as (
    select
        cast(month as date) as month,
        cast(month_end_date as date) as month_end_date,
        is_complete_month,
        churn_type,
        end_reason,
        cast(churned_customers as bigint) as churned_customers,
        cast(churned_mrr as decimal(18, 6)) as churned_mrr
    from filled
)

select * from final
