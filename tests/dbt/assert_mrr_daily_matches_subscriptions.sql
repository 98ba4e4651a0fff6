-- An independent check of the running-sum construction: at every month's closing day, the
-- daily MRR must equal the MRR summed straight from the subscriptions active at that day's
-- last instant (started_at < day + 1 <= ended_at, or ended_at NULL), and paying_customers the
-- number of distinct users with such a subscription of positive MRR.

with

month_ends as (
    -- without billing data fct_mrr_daily has no rows (assert_absent_data_is_null)
    select month_end_date from {{ ref('int_data_months') }}
    where {{ core_data_area_present('billing') }}
),

subscriptions as (
    select
        user_id,
        mrr_usd,
        started_at,
        ended_at
    from {{ ref('stg_subscriptions') }}
),

active_at_day_end as (
    select
        month_ends.month_end_date,
        sum(subscriptions.mrr_usd) as mrr,
        count(distinct case when subscriptions.mrr_usd > 0 then subscriptions.user_id end)
            as paying_customers
    from month_ends
    inner join subscriptions
        on
            subscriptions.started_at < {{ dbt.dateadd('day', 1, 'month_ends.month_end_date') }}
            and (
                subscriptions.ended_at is null
                or subscriptions.ended_at >= {{ dbt.dateadd('day', 1, 'month_ends.month_end_date') }}
            )
    group by month_ends.month_end_date
),

daily as (
    select
        date_day,
        mrr,
        paying_customers
    from {{ ref('fct_mrr_daily') }}
),

final as (
    select
        month_ends.month_end_date,
        daily.mrr as daily_mrr,
        coalesce(active_at_day_end.mrr, 0) as subscription_mrr,
        daily.paying_customers as daily_paying_customers,
        coalesce(active_at_day_end.paying_customers, 0) as subscription_paying_customers
    from month_ends
    left join daily
        on month_ends.month_end_date = daily.date_day
    left join active_at_day_end
        on month_ends.month_end_date = active_at_day_end.month_end_date
    where
        daily.mrr is null
        or daily.mrr != coalesce(active_at_day_end.mrr, 0)
        or daily.paying_customers != coalesce(active_at_day_end.paying_customers, 0)
)

select * from final
