-- fct_product_daily counts trailing-window active users with a running sum of window
-- entries and exits instead of a distinct count per day. This recomputes WAU and MAU (and
-- their paying parts) with plain distinct counts on the last day and every 61st day before
-- it, and checks dau <= wau <= mau and that completed scans split into paying and free.
-- Returns the days that disagree.

with

days as (
    select
        date_day,
        row_number() over (order by date_day desc) as days_before_end
    from {{ ref('int_data_days') }}
),

sampled_days as (
    select date_day from days
    where mod(days_before_end - 1, 61) = 0
),

activity as (
    select
        user_id,
        activity_date,
        is_paying
    from {{ ref('int_user_activity_days') }}
),

window_activity as (
    -- each user's latest active day within the 30-day window of each sampled day
    select
        sampled_days.date_day,
        activity.user_id,
        activity.activity_date,
        activity.is_paying,
        row_number() over (
            partition by sampled_days.date_day, activity.user_id
            order by activity.activity_date desc
        ) as recency
    from sampled_days
    inner join activity
        on
            sampled_days.date_day >= activity.activity_date
            and activity.activity_date > {{ dbt.dateadd('day', -30, 'sampled_days.date_day') }}
),

distinct_counts as (
    select
        date_day,
        sum(
            case
                when activity_date > {{ dbt.dateadd('day', -7, 'date_day') }} then 1 else 0
            end
        ) as wau,
        sum(
            case
                when activity_date > {{ dbt.dateadd('day', -7, 'date_day') }} and is_paying
                    then 1
                else 0
            end
        ) as wau_paying,
        count(*) as mau,
        sum(case when is_paying then 1 else 0 end) as mau_paying
    from window_activity
    where recency = 1
    group by date_day
),

product_daily as (
    select * from {{ ref('fct_product_daily') }}
),

sampled_mismatches as (
    select
        product_daily.activity_date,
        'trailing distinct counts' as check_name
    from sampled_days
    inner join product_daily
        on sampled_days.date_day = product_daily.activity_date
    left join distinct_counts
        on sampled_days.date_day = distinct_counts.date_day
    where
        product_daily.wau != coalesce(distinct_counts.wau, 0)
        or product_daily.wau_paying != coalesce(distinct_counts.wau_paying, 0)
        or product_daily.mau != coalesce(distinct_counts.mau, 0)
        or product_daily.mau_paying != coalesce(distinct_counts.mau_paying, 0)
),

ordering_mismatches as (
    select
        activity_date,
        'dau <= wau <= mau and scan split' as check_name
    from product_daily
    where
        dau > wau
        or wau > mau
        or dau_paying > dau
        or wau_paying > wau
        or mau_paying > mau
        or completed_scans_paying + completed_scans_free != completed_scans
        or completed_scans + failed_scans != scans
)

select * from sampled_mismatches
union all
select * from ordering_mismatches
