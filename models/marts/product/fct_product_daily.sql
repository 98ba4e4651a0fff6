{{ config(**incremental_by_date_config('activity_date')) }}

-- One row per day of data: active users over trailing 1/7/30-day windows (paying vs free),
-- stickiness, and scan volume, quality and speed. Incremental by activity_date
-- (macros/incremental_by_date.sql): a nightly run rebuilds the last few days from the 30 days
-- of activity before them. Without any scans or sessions in the raw data (dim_data_coverage)
-- it has no rows: zero active users would pretend to be a measurement. Without billing data
-- the paying/free splits are NULL.
--
-- Trailing-window active users are counted in one pass instead of one distinct count per day:
-- an active day of a user keeps them in the 7-day (30-day) window until the window has passed
-- it or until their next active day takes over, so every active day contributes +1 on its
-- date and -1 on the earlier of (date + 7, next active date). A running sum of those changes
-- over the calendar is the number of distinct users active in the trailing window; the
-- paying/free split follows the user's status on their latest active day in the window.

with

rebuilt_days as (
    -- the days this run writes (all of them on a full build) and the first day of activity
    -- they need: a user active 30 days before the first one is out of every window by then
    select
        rebuild_from,
        cast({{ dbt.dateadd('day', -30, 'rebuild_from') }} as date) as activity_from
    from (select {{ incremental_rebuild_start('activity_date') }} as rebuild_from) as start_day
),

days as (
    -- the running sums below start at activity_from; only days from rebuild_from are written
    select date_day as calendar_date
    from {{ ref('int_data_days') }}
    where date_day >= (select rebuilt_days.activity_from from rebuilt_days)
),

user_activity_days as (
    select
        user_id,
        activity_date,
        completed_scans,
        is_paying
    from {{ ref('int_user_activity_days') }}
    where activity_date >= (select rebuilt_days.activity_from from rebuilt_days)
),

activity_days as (
    select
        activity_date,
        lead(activity_date) over (
            partition by user_id order by activity_date
        ) as next_activity_date,
        completed_scans,
        case when is_paying then 1 else 0 end as paying
    from user_activity_days
),

scans as (
    select
        cast(scanned_at as date) as scan_date,
        status,
        match_rate,
        processing_ms,
        keywords_extracted
    from {{ ref('stg_scans') }}
    where scanned_at >= cast((select rebuilt_days.rebuild_from from rebuilt_days) as timestamp)
),

daily_active_users as (
    select
        activity_date,
        count(*) as dau,
        sum(paying) as dau_paying,
        sum(case when paying = 1 then completed_scans else 0 end) as completed_scans_paying,
        sum(case when paying = 0 then completed_scans else 0 end) as completed_scans_free
    from activity_days
    group by activity_date
),

window_ends as (
    select
        activity_date,
        paying,
        case
            when
                next_activity_date is not null
                and next_activity_date < {{ dbt.dateadd('day', 7, 'activity_date') }}
                then next_activity_date
            else cast({{ dbt.dateadd('day', 7, 'activity_date') }} as date)
        end as leaves_week_window_on,
        case
            when
                next_activity_date is not null
                and next_activity_date < {{ dbt.dateadd('day', 30, 'activity_date') }}
                then next_activity_date
            else cast({{ dbt.dateadd('day', 30, 'activity_date') }} as date)
        end as leaves_month_window_on
    from activity_days
),

window_changes as (
    select
        activity_date as change_date,
        1 as wau_change,
        paying as wau_paying_change,
        1 as mau_change,
        paying as mau_paying_change
    from window_ends

    union all

    select
        leaves_week_window_on as change_date,
        -1 as wau_change,
        -paying as wau_paying_change,
        0 as mau_change,
        0 as mau_paying_change
    from window_ends

    union all

    select
        leaves_month_window_on as change_date,
        0 as wau_change,
        0 as wau_paying_change,
        -1 as mau_change,
        -paying as mau_paying_change
    from window_ends
),

daily_window_changes as (
    select
        change_date,
        sum(wau_change) as wau_change,
        sum(wau_paying_change) as wau_paying_change,
        sum(mau_change) as mau_change,
        sum(mau_paying_change) as mau_paying_change
    from window_changes
    group by change_date
),

trailing_active_users as (
    select
        days.calendar_date,
        sum(coalesce(daily_window_changes.wau_change, 0)) over (
            order by days.calendar_date rows between unbounded preceding and current row
        ) as wau,
        sum(coalesce(daily_window_changes.wau_paying_change, 0)) over (
            order by days.calendar_date rows between unbounded preceding and current row
        ) as wau_paying,
        sum(coalesce(daily_window_changes.mau_change, 0)) over (
            order by days.calendar_date rows between unbounded preceding and current row
        ) as mau,
        sum(coalesce(daily_window_changes.mau_paying_change, 0)) over (
            order by days.calendar_date rows between unbounded preceding and current row
        ) as mau_paying
    from days
    left join daily_window_changes
        on days.calendar_date = daily_window_changes.change_date
),

daily_scans as (
    select
        scan_date,
        count(*) as scans,
        sum(case when status = 'completed' then 1 else 0 end) as completed_scans,
        sum(case when status = 'failed' then 1 else 0 end) as failed_scans,
        avg(case when status = 'completed' then match_rate end) as avg_match_rate,
        {{ analytics_median("case when status = 'completed' then match_rate end") }}
            as median_match_rate,
        {{ analytics_percentile('processing_ms', 0.5) }} as p50_processing_ms,
        {{ analytics_percentile('processing_ms', 0.95) }} as p95_processing_ms,
        {{ analytics_percentile('processing_ms', 0.99) }} as p99_processing_ms,
        avg(case when status = 'completed' then keywords_extracted end)
            as avg_keywords_extracted
    from scans
    group by scan_date
),

final as (
    select
        days.calendar_date as activity_date,
        cast(coalesce(daily_active_users.dau, 0) as bigint) as dau,
        -- the paying/free splits are NULL without billing data: who pays is unknown
        case
            when {{ core_data_area_present('billing') }}
                then cast(coalesce(daily_active_users.dau_paying, 0) as bigint)
        end as dau_paying,
        case
            when {{ core_data_area_present('billing') }}
                then
                    cast(
                        coalesce(daily_active_users.dau - daily_active_users.dau_paying, 0)
                        as bigint
                    )
        end as dau_free,
        cast(trailing_active_users.wau as bigint) as wau,
        case
            when {{ core_data_area_present('billing') }} then cast(trailing_active_users.wau_paying as bigint)
        end as wau_paying,
        case
            when {{ core_data_area_present('billing') }}
                then cast(trailing_active_users.wau - trailing_active_users.wau_paying as bigint)
        end as wau_free,
        cast(trailing_active_users.mau as bigint) as mau,
        case
            when {{ core_data_area_present('billing') }} then cast(trailing_active_users.mau_paying as bigint)
        end as mau_paying,
        case
            when {{ core_data_area_present('billing') }}
                then cast(trailing_active_users.mau - trailing_active_users.mau_paying as bigint)
        end as mau_free,
        cast(coalesce(daily_active_users.dau, 0) as {{ analytics_type_double() }})
        / nullif(trailing_active_users.mau, 0) as stickiness,
        cast(coalesce(daily_scans.scans, 0) as bigint) as scans,
        cast(coalesce(daily_scans.completed_scans, 0) as bigint) as completed_scans,
        cast(coalesce(daily_scans.failed_scans, 0) as bigint) as failed_scans,
        cast(daily_scans.failed_scans as {{ analytics_type_double() }})
        / nullif(daily_scans.scans, 0) as failure_rate,
        cast(daily_scans.avg_match_rate as {{ analytics_type_double() }}) as avg_match_rate,
        cast(daily_scans.median_match_rate as {{ analytics_type_double() }}) as median_match_rate,
        cast(daily_scans.p50_processing_ms as {{ analytics_type_double() }}) as p50_processing_ms,
        cast(daily_scans.p95_processing_ms as {{ analytics_type_double() }}) as p95_processing_ms,
        cast(daily_scans.p99_processing_ms as {{ analytics_type_double() }}) as p99_processing_ms,
        cast(daily_scans.avg_keywords_extracted as {{ analytics_type_double() }})
            as avg_keywords_extracted,
        cast(daily_scans.scans as {{ analytics_type_double() }})
        / nullif(daily_active_users.dau, 0) as scans_per_active_user,
        case
            when {{ core_data_area_present('billing') }}
                then cast(coalesce(daily_active_users.completed_scans_paying, 0) as bigint)
        end as completed_scans_paying,
        case
            when {{ core_data_area_present('billing') }}
                then cast(coalesce(daily_active_users.completed_scans_free, 0) as bigint)
        end as completed_scans_free
    from days
    left join daily_active_users
        on days.calendar_date = daily_active_users.activity_date
    left join trailing_active_users
        on days.calendar_date = trailing_active_users.calendar_date
    left join daily_scans
        on days.calendar_date = daily_scans.scan_date
    where
        days.calendar_date >= (select rebuilt_days.rebuild_from from rebuilt_days)
        -- no product events at all (a billing-only import): no rows rather than days of 0
        and {{ core_data_area_present('product_events') }}
)

select * from final
