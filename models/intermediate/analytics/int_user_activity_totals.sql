{{ config(**incremental_by_key_config('user_id')) }}

-- One row per user with active days before the lookback: sums over the days no later nightly
-- run rebuilds, so fct_user_engagement reads only the few days after them instead of every
-- active day of every user (8 M at 1M users) or the last 60 days (2.5 M) each night.
-- The lookback is the last incremental_lookback_days days before the newest active day in
-- int_user_activity_days and that day itself: the days a later nightly run may still rebuild
-- (macros/incremental_by_date.sql). Every older day is final.
--   days_active ... last_active_date      over the days before the lookback
--   *_before_last_30_days                 over the days before the first of the last 30 days of
--                                         data (int_data_days), or before the lookback when
--                                         that starts earlier
--   *_before_last_60_days                 the same with the last 60 days
-- fct_user_engagement's 30-day windows are the differences: the scans of the last 30 days are
-- all of them less those before the last 30 days.
--
-- Incremental by user_id (macros/incremental_by_key.sql): a nightly run adds, to each stored
-- sum, the days after the newest active day it holds (there is no activity on the days between
-- that one and where the sum stopped) and before where it stops now. Only the users active on
-- those days get a new row.

with

lookback as (
    -- the first day a later run may still rebuild
    select
        {{ incremental_lookback_start(ref('int_user_activity_days'), 'activity_date') }}
            as lookback_start
),

data_windows as (
    -- the first of the last 30 and of the last 60 days of data
    select
        {{ dbt.dateadd('day', -29, 'max(date_day)') }} as last_30_days_from,
        {{ dbt.dateadd('day', -59, 'max(date_day)') }} as last_60_days_from
    from {{ ref('int_data_days') }}
),

boundaries as (
    -- where each sum stops now: before the lookback, and before the first of the last 30 and
    -- last 60 days of data, or the lookback when that is earlier
    select
        lookback.lookback_start,
        least(data_windows.last_30_days_from, lookback.lookback_start) as last_30_days_cut,
        least(data_windows.last_60_days_from, lookback.lookback_start) as last_60_days_cut
    from lookback
    cross join data_windows
),

held_through as (
    -- the newest active day each stored sum holds: none on a full build (1900-01-01)
    select
        max(totals_through) as totals_through,
        max(last_30_days_through) as last_30_days_through,
        max(last_60_days_through) as last_60_days_through
    from (
        select
            cast('1900-01-01' as date) as totals_through,
            cast('1900-01-01' as date) as last_30_days_through,
            cast('1900-01-01' as date) as last_60_days_through
        {% if is_incremental() %}
            union all
            select
                max(last_active_date) as totals_through,
                max(last_active_date_before_last_30_days) as last_30_days_through,
                max(last_active_date_before_last_60_days) as last_60_days_through
            from {{ this }}
        {% endif %}
    ) as stored
),

selected_days as (
    -- from the oldest day a sum gains to the lookback: one range, so the scan skips the row
    -- groups outside it (on a nightly run about 60 days, of which added_days keeps about 3)
    select
        user_id,
        activity_date,
        completed_scans,
        first_completed_scan_at,
        last_completed_scan_at,
        is_paying
    from {{ ref('int_user_activity_days') }}
    where
        activity_date > (
            select
                least(
                    held_through.totals_through,
                    held_through.last_30_days_through,
                    held_through.last_60_days_through
                )
            from held_through
        )
        and activity_date < (select boundaries.lookback_start from boundaries)
),

flagged_days as (
    select
        selected_days.user_id,
        selected_days.activity_date,
        selected_days.completed_scans,
        selected_days.first_completed_scan_at,
        selected_days.last_completed_scan_at,
        selected_days.is_paying,
        selected_days.activity_date > held_through.totals_through
        and selected_days.activity_date < boundaries.lookback_start as adds_to_totals,
        selected_days.activity_date > held_through.last_30_days_through
        and selected_days.activity_date < boundaries.last_30_days_cut as adds_before_last_30_days,
        selected_days.activity_date > held_through.last_60_days_through
        and selected_days.activity_date < boundaries.last_60_days_cut as adds_before_last_60_days
    from selected_days
    cross join boundaries
    cross join held_through
),

added_days as (
    -- the days one of the sums gains
    select
        user_id,
        activity_date,
        completed_scans,
        first_completed_scan_at,
        last_completed_scan_at,
        is_paying,
        adds_to_totals,
        adds_before_last_30_days,
        adds_before_last_60_days
    from flagged_days
    where adds_to_totals or adds_before_last_30_days or adds_before_last_60_days
),

added_totals as (
    select
        user_id,
        sum(case when adds_to_totals then 1 else 0 end) as days_active,
        sum(case when adds_to_totals and is_paying then 1 else 0 end) as paying_days_active,
        sum(case when adds_to_totals then completed_scans else 0 end) as completed_scans,
        min(case when adds_to_totals then first_completed_scan_at end) as first_completed_scan_at,
        max(case when adds_to_totals then last_completed_scan_at end) as last_completed_scan_at,
        max(case when adds_to_totals then activity_date end) as last_active_date,
        sum(case when adds_before_last_30_days then 1 else 0 end)
            as days_active_before_last_30_days,
        sum(case when adds_before_last_30_days then completed_scans else 0 end)
            as completed_scans_before_last_30_days,
        max(case when adds_before_last_30_days then activity_date end)
            as last_active_date_before_last_30_days,
        sum(case when adds_before_last_60_days then completed_scans else 0 end)
            as completed_scans_before_last_60_days,
        max(case when adds_before_last_60_days then activity_date end)
            as last_active_date_before_last_60_days
    from added_days
    group by user_id
),

{% set total_columns = [
    'user_id',
    'days_active',
    'paying_days_active',
    'completed_scans',
    'first_completed_scan_at',
    'last_completed_scan_at',
    'last_active_date',
    'days_active_before_last_30_days',
    'completed_scans_before_last_30_days',
    'last_active_date_before_last_30_days',
    'completed_scans_before_last_60_days',
    'last_active_date_before_last_60_days',
] %}

stored_totals as (
    -- the sums so far of the users with added days (none on a full build: no rows of the
    -- same columns)
    select {{ total_columns | join(', ') }}
    from added_totals
    where false
    {% if is_incremental() %}
        union all
        select {{ total_columns | join(', ') }}
        from {{ this }}
        where user_id in (select added_totals.user_id from added_totals)
    {% endif %}
),

final as (
    -- least() and greatest() skip a NULL (no stored row, or nothing added)
    select
        added_totals.user_id,
        cast(
            coalesce(stored_totals.days_active, 0) + added_totals.days_active as bigint
        ) as days_active,
        cast(
            coalesce(stored_totals.paying_days_active, 0)
            + added_totals.paying_days_active as bigint
        ) as paying_days_active,
        cast(
            coalesce(stored_totals.completed_scans, 0) + added_totals.completed_scans as bigint
        ) as completed_scans,
        least(stored_totals.first_completed_scan_at, added_totals.first_completed_scan_at)
            as first_completed_scan_at,
        greatest(stored_totals.last_completed_scan_at, added_totals.last_completed_scan_at)
            as last_completed_scan_at,
        greatest(stored_totals.last_active_date, added_totals.last_active_date)
            as last_active_date,
        cast(
            coalesce(stored_totals.days_active_before_last_30_days, 0)
            + added_totals.days_active_before_last_30_days as bigint
        ) as days_active_before_last_30_days,
        cast(
            coalesce(stored_totals.completed_scans_before_last_30_days, 0)
            + added_totals.completed_scans_before_last_30_days as bigint
        ) as completed_scans_before_last_30_days,
        greatest(
            stored_totals.last_active_date_before_last_30_days,
            added_totals.last_active_date_before_last_30_days
        ) as last_active_date_before_last_30_days,
        cast(
            coalesce(stored_totals.completed_scans_before_last_60_days, 0)
            + added_totals.completed_scans_before_last_60_days as bigint
        ) as completed_scans_before_last_60_days,
        greatest(
            stored_totals.last_active_date_before_last_60_days,
            added_totals.last_active_date_before_last_60_days
        ) as last_active_date_before_last_60_days
    from added_totals
    left join stored_totals
        on added_totals.user_id = stored_totals.user_id
)

select * from final
