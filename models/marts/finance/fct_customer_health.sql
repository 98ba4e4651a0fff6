-- One row per customer (everyone who ever paid) as of the last day of the data: who they are,
-- what they pay, how long they have paid, how their scanning is trending, and, for a paying
-- customer, an at-risk score; for a churned one, when, why and how much MRR left with them.
--
-- Engagement trend, from completed scans in the last 30 days of data against the 30 before:
--   inactive  none in either window          stopped  some before, none now
--   falling   now at most half of before     rising   now at least twice before (or new)
--   steady    anything else
-- At-risk score of a paying customer (0-100; NULL for a churned one), the sum of:
--   40  stopped scanning (trend 'stopped')
--   40  no completed scan in 60 days (trend 'inactive'): paying for a product they do not use
--   25  scanning halved (trend 'falling')
--   30  a payment attempt failed on an invoice issued in the last 90 days (recovered or not)
--   20  moved to a cheaper plan in the last 90 days
-- A customer is at risk at a score of 40 or more: not scanning alone, or two weaker signals
-- together (a failed payment and halved scanning, a downgrade and halved scanning, ...).
-- Without scans in the raw data (a billing-only import, dim_data_coverage) the scan counts and
-- the trend are NULL and the score has only the payment and downgrade signals.

with

customers as (
    select * from {{ ref('dim_customers') }}
    where first_paid_at is not null
),

engagement as (
    select
        user_id,
        completed_scans_last_30_days,
        completed_scans_previous_30_days,
        last_active_date
    from {{ ref('fct_user_engagement') }}
),

data_end as (
    select max(date_day) as last_date from {{ ref('int_data_days') }}
),

subscriptions as (
    select
        user_id,
        start_reason,
        started_date
    from {{ ref('int_subscription_periods') }}
),

invoices as (
    select
        user_id,
        issued_at,
        first_attempt_failed
    from {{ ref('stg_invoices') }}
),

recent_downgrades as (
    select
        subscriptions.user_id,
        count(*) as downgrades_last_90_days
    from subscriptions
    cross join data_end
    where
        subscriptions.start_reason = 'downgrade'
        and subscriptions.started_date >= {{ dbt.dateadd('day', -89, 'data_end.last_date') }}
    group by subscriptions.user_id
),

recent_failed_payments as (
    select
        invoices.user_id,
        count(*) as failed_payments_last_90_days
    from invoices
    cross join data_end
    where
        invoices.first_attempt_failed
        and invoices.issued_at >= {{ dbt.dateadd('day', -89, 'data_end.last_date') }}
    group by invoices.user_id
),

last_churns as (
    -- the customer's last churn (int_customer_churns: why, and the MRR the bridge counted as
    -- churned, their MRR at the previous month end); none when they never paid at a month end
    select
        user_id,
        end_reason,
        churn_type,
        -mrr_change as lost_mrr,
        row_number() over (partition by user_id order by month desc) as recency_rank
    from {{ ref('int_customer_churns') }}
),

trended as (
    select
        customers.*,
        case
            when {{ core_data_area_present('scans') }}
                then coalesce(engagement.completed_scans_last_30_days, 0)
        end as completed_scans_last_30_days,
        case
            when {{ core_data_area_present('scans') }}
                then coalesce(engagement.completed_scans_previous_30_days, 0)
        end as completed_scans_previous_30_days,
        engagement.last_active_date,
        coalesce(recent_failed_payments.failed_payments_last_90_days, 0)
            as failed_payments_last_90_days,
        coalesce(recent_downgrades.downgrades_last_90_days, 0) as downgrades_last_90_days,
        data_end.last_date as as_of_date
    from customers
    cross join data_end
    left join engagement
        on customers.user_id = engagement.user_id
    left join recent_failed_payments
        on customers.user_id = recent_failed_payments.user_id
    left join recent_downgrades
        on customers.user_id = recent_downgrades.user_id
),

signals as (
    select
        *,
        case
            when completed_scans_last_30_days is null then null
            when completed_scans_last_30_days = 0 and completed_scans_previous_30_days = 0
                then 'inactive'
            when completed_scans_last_30_days = 0 then 'stopped'
            when completed_scans_last_30_days * 2 <= completed_scans_previous_30_days
                then 'falling'
            when completed_scans_last_30_days >= completed_scans_previous_30_days * 2
                then 'rising'
            else 'steady'
        end as engagement_trend
    from trended
),

scored as (
    select
        *,
        case
            when customer_status = 'paying' then
                least(
                    100,
                    case engagement_trend
                        when 'stopped' then 40
                        when 'inactive' then 40
                        when 'falling' then 25
                        else 0
                    end
                    + case when failed_payments_last_90_days > 0 then 30 else 0 end
                    + case when downgrades_last_90_days > 0 then 20 else 0 end
                )
        end as at_risk_score,
        case
            when customer_status = 'paying' then
                concat_ws(
                    ', ',
                    case engagement_trend
                        when 'stopped' then 'stopped scanning'
                        when 'inactive' then 'no scans in 60 days'
                        when 'falling' then 'scanning halved'
                    end,
                    case when failed_payments_last_90_days > 0 then 'failed payment' end,
                    case when downgrades_last_90_days > 0 then 'downgraded' end
                )
        end as risk_reasons
    from signals
),

final as (
    select
        scored.user_id,
        scored.customer_status,
        scored.acquisition_channel,
        scored.segment,
        scored.country,
        scored.device,
        scored.current_plan,
        scored.current_billing_cycle,
        scored.current_mrr,
        scored.first_paid_date,
        cast(
            {{ dbt.datediff(
                'scored.first_paid_date',
                'coalesce(cast(scored.churned_at as date), scored.as_of_date)',
                'day'
            ) }} as bigint
        ) as tenure_days,
        round(
            cast(
                {{ dbt.datediff(
                    'scored.first_paid_date',
                    'coalesce(cast(scored.churned_at as date), scored.as_of_date)',
                    'day'
                ) }} as double
            ) / 30.4375,
            1
        ) as tenure_months,
        scored.lifetime_revenue_usd,
        scored.last_active_date,
        scored.completed_scans_last_30_days,
        scored.completed_scans_previous_30_days,
        scored.engagement_trend,
        cast(scored.failed_payments_last_90_days as bigint) as failed_payments_last_90_days,
        cast(scored.downgrades_last_90_days as bigint) as downgrades_last_90_days,
        cast(scored.at_risk_score as integer) as at_risk_score,
        coalesce(scored.at_risk_score >= 40, false) as is_at_risk,
        nullif(scored.risk_reasons, '') as risk_reasons,
        cast(scored.churned_at as date) as churned_date,
        case when scored.customer_status = 'churned' then last_churns.end_reason end
            as churn_reason,
        case when scored.customer_status = 'churned' then last_churns.churn_type end
            as churn_type,
        case
            when scored.customer_status = 'churned'
                then cast(last_churns.lost_mrr as decimal(18, 6))
        end as lost_mrr,
        scored.as_of_date
    from scored
    left join last_churns
        on
            scored.user_id = last_churns.user_id
            and last_churns.recency_rank = 1
)

select * from final
