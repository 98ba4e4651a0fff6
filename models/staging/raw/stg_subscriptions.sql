-- One row per subscription period, with its monthly-normalised recurring revenue.
-- mrr_usd is the single definition of a subscription's MRR that every model uses:
-- price_usd for monthly plans, price_usd / 12 for annual plans, at 6 decimal places.

with

source as (
    select * from {{ source('raw', 'raw_subscriptions') }}
),

with_period as (
    select
        subscription_id,
        user_id,
        plan,
        billing_cycle,
        price_usd,
        case billing_cycle
            when 'monthly' then 1
            when 'annual' then 12
        end as billing_period_months,
        started_at,
        ended_at,
        end_reason
    from source
),

final as (
    select
        subscription_id,
        user_id,
        plan,
        billing_cycle,
        price_usd,
        billing_period_months,
        cast(
            cast(price_usd as decimal(18, 6)) / billing_period_months as decimal(18, 6)
        ) as mrr_usd,
        started_at,
        ended_at,
        end_reason
    from with_period
)

select * from final
