{{ config(**incremental_by_date_config('activity_date')) }}

-- One row per user per day on which they were active (a completed scan or a signed-in
-- session), with the day's completed scans (how many, the first and the last) and whether they
-- held a paid subscription at the end of that day. Incremental by
-- activity_date (macros/incremental_by_date.sql): a nightly run rebuilds only the last few
-- days, so no column may depend on later days.

with

completed_scans as (
    select
        user_id,
        cast(scanned_at as date) as activity_date,
        scanned_at
    from {{ ref('stg_scans') }}
    where
        status = 'completed'
        and {{ incremental_lookback_condition_at('scanned_at', 'activity_date') }}
),

signed_in_sessions as (
    select
        user_id,
        cast(started_at as date) as activity_date
    from {{ ref('stg_sessions') }}
    where
        user_id is not null
        and {{ incremental_lookback_condition_at('started_at', 'activity_date') }}
),

subscriptions as (
    select
        user_id,
        started_at,
        ended_at
    from {{ ref('stg_subscriptions') }}
),

activity_events as (
    select
        user_id,
        activity_date,
        1 as completed_scans,
        0 as signed_in_sessions,
        scanned_at as completed_scan_at
    from completed_scans

    union all

    select
        user_id,
        activity_date,
        0 as completed_scans,
        1 as signed_in_sessions,
        cast(null as timestamp) as completed_scan_at
    from signed_in_sessions
),

user_days as (
    select
        user_id,
        activity_date,
        -- integer, not the 128-bit sum type: reading 128-bit columns back is slow in DuckDB
        cast(sum(completed_scans) as integer) as completed_scans,
        cast(sum(signed_in_sessions) as integer) as signed_in_sessions,
        min(completed_scan_at) as first_completed_scan_at,
        max(completed_scan_at) as last_completed_scan_at
    from activity_events
    group by user_id, activity_date
),

paying_user_days as (
    -- a subscription is active at the day's last instant when it started before the next
    -- midnight and ends at or after it (same rule as month-end MRR in the core marts)
    select distinct
        user_days.user_id,
        user_days.activity_date
    from user_days
    inner join subscriptions
        on
            user_days.user_id = subscriptions.user_id
            and subscriptions.started_at < {{ dbt.dateadd('day', 1, 'user_days.activity_date') }}
            and (
                subscriptions.ended_at is null
                or subscriptions.ended_at >= {{ dbt.dateadd('day', 1, 'user_days.activity_date') }}
            )
),

final as (
    select
        user_days.user_id,
        user_days.activity_date,
        user_days.completed_scans,
        user_days.first_completed_scan_at,
        user_days.last_completed_scan_at,
        user_days.signed_in_sessions,
        paying_user_days.user_id is not null as is_paying
    from user_days
    left join paying_user_days
        on
            user_days.user_id = paying_user_days.user_id
            and user_days.activity_date = paying_user_days.activity_date
)

select * from final
