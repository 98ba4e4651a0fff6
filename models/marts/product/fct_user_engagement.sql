-- One row per user: lifetime and recent scanning, active days and an engagement tier as of
-- the last day of data. Tiers, by completed scans in the last 30 days of data:
-- power (10 or more), engaged (3 to 9), casual (1 or 2), dormant (none, but scanned before),
-- never_scanned (no completed scan ever). No rows when the raw data holds no scans or sessions
-- at all (dim_data_coverage).

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

scans as (
    select
        user_id,
        scanned_at,
        status
    from {{ ref('stg_scans') }}
),

activity_days as (
    select
        user_id,
        activity_date,
        is_paying
    from {{ ref('int_user_activity_days') }}
),

data_end as (
    select max(date_day) as last_date from {{ ref('int_data_days') }}
),

user_scans as (
    select
        scans.user_id,
        count(*) as scans_total,
        sum(case when scans.status = 'completed' then 1 else 0 end) as completed_scans_total,
        sum(
            case
                when scans.scanned_at >= {{ dbt.dateadd('day', -29, 'data_end.last_date') }} then 1
                else 0
            end
        ) as scans_last_30_days,
        sum(
            case
                when
                    scans.status = 'completed'
                    and scans.scanned_at >= {{ dbt.dateadd('day', -29, 'data_end.last_date') }}
                    then 1
                else 0
            end
        ) as completed_scans_last_30_days,
        sum(
            case
                when
                    scans.status = 'completed'
                    and scans.scanned_at >= {{ dbt.dateadd('day', -59, 'data_end.last_date') }}
                    and scans.scanned_at < {{ dbt.dateadd('day', -29, 'data_end.last_date') }}
                    then 1
                else 0
            end
        ) as completed_scans_previous_30_days,
        min(scans.scanned_at) as first_scan_at,
        max(scans.scanned_at) as last_scan_at
    from scans
    cross join data_end
    group by scans.user_id
),

user_activity as (
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
        max(activity_days.activity_date) as last_active_date
    from activity_days
    cross join data_end
    group by activity_days.user_id
),

final as (
    select
        users.user_id,
        users.signed_up_at,
        users.acquisition_channel,
        users.segment,
        users.device,
        cast(coalesce(user_scans.scans_total, 0) as bigint) as scans_total,
        cast(coalesce(user_scans.completed_scans_total, 0) as bigint) as completed_scans_total,
        cast(coalesce(user_scans.scans_last_30_days, 0) as bigint) as scans_last_30_days,
        cast(coalesce(user_scans.completed_scans_last_30_days, 0) as bigint)
            as completed_scans_last_30_days,
        cast(coalesce(user_scans.completed_scans_previous_30_days, 0) as bigint)
            as completed_scans_previous_30_days,
        user_scans.first_scan_at,
        user_scans.last_scan_at,
        cast(coalesce(user_activity.days_active, 0) as bigint) as days_active,
        cast(coalesce(user_activity.days_active_last_30_days, 0) as bigint)
            as days_active_last_30_days,
        -- NULL without billing data: whether a day was a paying one is unknown
        case
            when {{ core_data_area_present('billing') }}
                then cast(coalesce(user_activity.paying_days_active, 0) as bigint)
        end as paying_days_active,
        user_activity.last_active_date,
        case
            when coalesce(user_scans.completed_scans_last_30_days, 0) >= 10 then 'power'
            when coalesce(user_scans.completed_scans_last_30_days, 0) >= 3 then 'engaged'
            when coalesce(user_scans.completed_scans_last_30_days, 0) >= 1 then 'casual'
            when coalesce(user_scans.completed_scans_total, 0) >= 1 then 'dormant'
            else 'never_scanned'
        end as engagement_tier
    from users
    left join user_scans
        on users.user_id = user_scans.user_id
    left join user_activity
        on users.user_id = user_activity.user_id
    -- no scans or sessions in the raw data at all: no rows, not every user "never_scanned"
    where {{ core_data_area_present('product_events') }}
)

select * from final
