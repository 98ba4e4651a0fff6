{{ config(materialized='table') }}

-- One row per subscription period with what the raw row implies: how it started (new,
-- upgrade, downgrade, reactivation), its place in the customer's history, and the days it
-- counted towards MRR within the data window.

with

subscriptions as (
    select * from {{ ref('stg_subscriptions') }}
),

data_span as (
    select * from {{ ref('int_data_span') }}
),

sequenced as (
    select
        *,
        row_number() over (
            partition by user_id order by started_at, subscription_id
        ) as subscription_number,
        lag(ended_at) over (
            partition by user_id order by started_at, subscription_id
        ) as previous_ended_at,
        lag(end_reason) over (
            partition by user_id order by started_at, subscription_id
        ) as previous_end_reason
    from subscriptions
),

dated as (
    select
        sequenced.*,
        cast(sequenced.started_at as date) as started_date,
        cast(sequenced.ended_at as date) as ended_date,
        -- the first day whose end the subscription no longer counts at, capped at the day
        -- after the data ends
        cast({{ dbt.dateadd('day', 1, 'data_span.data_end_date') }} as date) as after_data_end_date
    from sequenced
    cross join data_span
),

final as (
    select
        subscription_id,
        user_id,
        subscription_number,
        plan,
        billing_cycle,
        price_usd,
        billing_period_months,
        mrr_usd,
        started_at,
        ended_at,
        end_reason,
        case
            when subscription_number = 1 then 'new'
            when previous_ended_at = started_at and previous_end_reason = 'upgraded' then 'upgrade'
            when previous_ended_at = started_at and previous_end_reason = 'downgraded' then 'downgrade'
            else 'reactivation'
        end as start_reason,
        started_date,
        ended_date,
        -- active at the last instant of the data: started by then and not ended
        (
            started_date < after_data_end_date
            and (ended_date is null or ended_date >= after_data_end_date)
        ) as is_active_at_data_end,
        -- day ends at which the subscription counted in MRR, up to the last day of the data
        -- (0 when it began and ended within one day)
        greatest(
            {{ dbt.datediff(
                'started_date',
                'case when ended_date is null or ended_date > after_data_end_date'
                ~ ' then after_data_end_date else ended_date end',
                'day'
            ) }},
            0
        ) as duration_days
    from dated
)

select * from final
