-- One row per churned customer month (movement 'churn' in int_customer_mrr_months: paying at the
-- previous month end, nothing at this one): the MRR the bridge counts as churned and why, in one
-- place for fct_churn_by_reason, fct_payment_recovery and fct_customer_health.
--
-- A churned customer month takes the customer's subscription that ended last within the month
-- (ended_date from the 1st to month_end_date: its MRR was removed at a day end between the two
-- month ends; ties by subscription_id), the one that left them at zero: its end_reason, its plan,
-- and the churn type of macro core_churn_type (canceled: voluntary, payment_failed:
-- involuntary). mrr_change is minus their MRR at the previous month end, as in fct_mrr_monthly.

with

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
        plan,
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
        churned_customer_months.month_end_date,
        churned_customer_months.mrr_change,
        subscriptions.subscription_id,
        subscriptions.plan,
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

final as (
    select
        user_id,
        month,
        month_end_date,
        mrr_change,
        subscription_id,
        plan,
        end_reason,
        {{ core_churn_type('end_reason') }} as churn_type
    from month_endings
    where ending_number = 1
)

select * from final
