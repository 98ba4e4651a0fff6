-- One row per subscription period (one plan at one price) with its monthly-normalised MRR,
-- how it started and ended, and how long it counted towards MRR.

with

periods as (
    select * from {{ ref('int_subscription_periods') }}
),

final as (
    select
        subscription_id,
        user_id,
        cast(subscription_number as bigint) as subscription_number,
        plan,
        billing_cycle,
        price_usd,
        cast(mrr_usd as decimal(18, 6)) as mrr,
        cast(mrr_usd * 12 as decimal(18, 6)) as arr,
        started_at,
        ended_at,
        cast(started_date as date) as started_date,
        cast(ended_date as date) as ended_date,
        start_reason,
        end_reason,
        is_active_at_data_end,
        cast(duration_days as bigint) as duration_days
    from periods
)

select * from final
