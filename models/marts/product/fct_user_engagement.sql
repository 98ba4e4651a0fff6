-- One row per user: lifetime and recent scanning, active days and an engagement tier as of
-- the last day of data. Tiers, by completed scans in the last 30 days of data:
-- power (10 or more), engaged (3 to 9), casual (1 or 2), dormant (none, but scanned before),
-- never_scanned (no completed scan ever). No rows when the raw data holds no scans or sessions
-- at all (dim_data_coverage). Completed scans are counted from int_user_activity_days (per user
-- and day), the others from fct_scans: at 1M users one aggregation of 8 M active days and one of
-- 0.35 M failed scans, not of all 12 M scans (a nightly build's 2.1 s became 1.7 s).

with

users as (
    select
        user_id,
        signed_up_at,
        acquisition_channel,
        segment,
        device
    from {{ ref('stg_users') }}
),

other_scans as (
    -- scans that did not complete (failed): about 3 % of them; the completed ones are counted
    -- per user and day in int_user_activity_days already
    select
        user_id,
        scanned_at
    from {{ ref('fct_scans') }}
    where status is distinct from 'completed'
),

activity_days as (
    select
        user_id,
        activity_date,
        completed_scans,
        first_completed_scan_at,
        last_completed_scan_at,
        is_paying
    from {{ ref('int_user_activity_days') }}
),

data_end as (
    select max(date_day) as last_date from {{ ref('int_data_days') }}
),

user_other_scans as (
    select
        other_scans.user_id,
        count(*) as other_scans_total,
        sum(
            case
                when other_scans.scanned_at >= {{ dbt.dateadd('day', -29, 'data_end.last_date') }}
                    then 1
                else 0
            end
        ) as other_scans_last_30_days,
        min(other_scans.scanned_at) as first_other_scan_at,
        max(other_scans.scanned_at) as last_other_scan_at
    from other_scans
    cross join data_end
    group by other_scans.user_id
),

user_activity as (
    -- a scan on or after the first day of the last 30 (at its midnight) is a scan of one of
    -- those days: the completed scans of a window are summed over its days
    select
        activity_days.user_id,
        count(*) as days_active,
        sum(
            case
                when activity_days.activity_date >= {{ dbt.dateadd('day', -29, 'data_end.last_date') }}
                    then 1
                else 0
            end
        ) as days_active_last_30_days,
        sum(case when activity_days.is_paying then 1 else 0 end) as paying_days_active,
        max(activity_days.activity_date) as last_active_date,
        sum(activity_days.completed_scans) as completed_scans_total,
        sum(
            case
                when activity_days.activity_date >= {{ dbt.dateadd('day', -29, 'data_end.last_date') }}
                    then activity_days.completed_scans
                else 0
            end
        ) as completed_scans_last_30_days,
        sum(
            case
                when
                    activity_days.activity_date >= {{ dbt.dateadd('day', -59, 'data_end.last_date') }}
                    and activity_days.activity_date
                    < {{ dbt.dateadd('day', -29, 'data_end.last_date') }}
                    then activity_days.completed_scans
                else 0
            end
        ) as completed_scans_previous_30_days,
        min(activity_days.first_completed_scan_at) as first_completed_scan_at,
        max(activity_days.last_completed_scan_at) as last_completed_scan_at
    from activity_days
    cross join data_end
    group by activity_days.user_id
),

user_figures as (
    -- every scan, completed or not, and the active days; users who never scanned or were
    -- active have no rows in either
    select
        users.user_id,
        users.signed_up_at,
        users.acquisition_channel,
        users.segment,
        users.device,
        coalesce(user_activity.completed_scans_total, 0)
        + coalesce(user_other_scans.other_scans_total, 0) as scans_total,
        coalesce(user_activity.completed_scans_total, 0) as completed_scans_total,
        coalesce(user_activity.completed_scans_last_30_days, 0)
        + coalesce(user_other_scans.other_scans_last_30_days, 0) as scans_last_30_days,
        coalesce(user_activity.completed_scans_last_30_days, 0) as completed_scans_last_30_days,
        coalesce(user_activity.completed_scans_previous_30_days, 0)
            as completed_scans_previous_30_days,
        -- least() and greatest() skip a NULL (no completed, or no other, scan)
        least(user_activity.first_completed_scan_at, user_other_scans.first_other_scan_at)
            as first_scan_at,
        greatest(user_activity.last_completed_scan_at, user_other_scans.last_other_scan_at)
            as last_scan_at,
        coalesce(user_activity.days_active, 0) as days_active,
        coalesce(user_activity.days_active_last_30_days, 0) as days_active_last_30_days,
        coalesce(user_activity.paying_days_active, 0) as paying_days_active,
        user_activity.last_active_date
    from users
    left join user_activity
        on users.user_id = user_activity.user_id
    left join user_other_scans
        on users.user_id = user_other_scans.user_id
),

final as (
    select
        user_id,
        signed_up_at,
        acquisition_channel,
        segment,
        device,
        cast(scans_total as bigint) as scans_total,
        cast(completed_scans_total as bigint) as completed_scans_total,
        cast(scans_last_30_days as bigint) as scans_last_30_days,
        cast(completed_scans_last_30_days as bigint) as completed_scans_last_30_days,
        cast(completed_scans_previous_30_days as bigint) as completed_scans_previous_30_days,
        first_scan_at,
        last_scan_at,
        cast(days_active as bigint) as days_active,
        cast(days_active_last_30_days as bigint) as days_active_last_30_days,
        -- NULL without billing data: whether a day was a paying one is unknown
        case
            when {{ core_data_area_present('billing') }}
                then cast(paying_days_active as bigint)
        end as paying_days_active,
        last_active_date,
        case
            when completed_scans_last_30_days >= 10 then 'power'
            when completed_scans_last_30_days >= 3 then 'engaged'
            when completed_scans_last_30_days >= 1 then 'casual'
            when completed_scans_total >= 1 then 'dormant'
            else 'never_scanned'
        end as engagement_tier
    from user_figures
    -- no scans or sessions in the raw data at all: no rows, not every user "never_scanned"
    where {{ core_data_area_present('product_events') }}
)

select * from final
