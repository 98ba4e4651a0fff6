-- One row per month and end reason: the customers who churned in the month (movement `churn`
-- in fct_customer_mrr_monthly: paying at the previous month end, nothing at this one) and the
-- MRR they took with them, split by why their paying ended. Every end reason that ever ends a
-- churn gets a row for every month of the data (zeros when nobody churned for it), so the rows
-- of a month add up to fct_mrr_monthly's churned_customers and churned_mrr.
--
-- A churned customer month takes the end_reason of the customer's subscription that ended last
-- within the month (ended_date from the 1st to month_end_date: its MRR was removed at a day end
-- between the two month ends), the one that left them at zero; churned_mrr is minus their MRR
-- at the previous month end (negative, as in fct_mrr_monthly). churn_type comes from the
-- macro core_churn_type (canceled: voluntary, payment_failed: involuntary).

with

months as (
    select
        month,
        month_end_date,
        is_complete_month
    from {{ ref('int_data_months') }}
),

churned_customer_months as (
    select
        user_id,
        month,
        month_end_date,
        mrr_change
    from {{ ref('int_customer_mrr_months') }}
    where movement = 'churn'
),

subscriptions as (
    select
        subscription_id,
        user_id,
        ended_at,
        ended_date,
        end_reason
    from {{ ref('int_subscription_periods') }}
    where ended_at is not null
),

month_endings as (
    -- the subscriptions of each churned customer month that ended within the month, the last
    -- one first
    select
        churned_customer_months.user_id,
        churned_customer_months.month,
        churned_customer_months.mrr_change,
        subscriptions.end_reason,
        row_number() over (
            partition by churned_customer_months.user_id, churned_customer_months.month
            order by subscriptions.ended_at desc, subscriptions.subscription_id desc
        ) as ending_number
    from churned_customer_months
    left join subscriptions
        on
            churned_customer_months.user_id = subscriptions.user_id
            and churned_customer_months.month <= subscriptions.ended_date
            and churned_customer_months.month_end_date >= subscriptions.ended_date
),

churn_reasons as (
    select
        user_id,
        month,
        mrr_change,
        end_reason,
        {{ core_churn_type('end_reason') }} as churn_type
    from month_endings
    where ending_number = 1
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
