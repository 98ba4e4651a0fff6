{{ config(**incremental_by_key_config('user_id')) }}

-- One row per user with active days before the lookback: their totals over those days (active
-- days, paying active days, completed scans, first and last completed scan, last active day).
-- The lookback is the last incremental_lookback_days days before the newest active day in
-- int_user_activity_days and that day itself: the days a later nightly run may still rebuild
-- (macros/incremental_by_date.sql). Every older day is final, so fct_user_engagement adds to
-- these totals only the few days after the newest day they hold, instead of aggregating every
-- active day of every user (8 M at 1M users) each night.
--
-- Incremental by user_id (macros/incremental_by_key.sql): a nightly run adds, to the stored
-- totals, the days that left the lookback since the last run: the days after the newest active
-- day in the table (there is no activity on the days between that one and the previous
-- lookback start) and before the new lookback start. Only the users active on those days get a
-- new row.

with

lookback as (
    -- the first day a later run may still rebuild
    select
        {{ dbt.dateadd(
            'day', -1 * (var('incremental_lookback_days', 3) | int), 'max(activity_date)'
        ) }} as lookback_start
    from {{ ref('int_user_activity_days') }}
),

added_days as (
    -- one range of days, so the scan skips the row groups outside it
    select
        user_id,
        activity_date,
        completed_scans,
        first_completed_scan_at,
        last_completed_scan_at,
        is_paying
    from {{ ref('int_user_activity_days') }}
    where
        activity_date < (select lookback.lookback_start from lookback)
    {% if is_incremental() %}
        -- and after the newest day the stored totals hold
        and activity_date > coalesce(
            (select max(stored.last_active_date) from {{ this }} as stored),
            cast('1900-01-01' as date)
        )
    {% endif %}
),

added_totals as (
    select
        user_id,
        count(*) as days_active,
        cast(sum(case when is_paying then 1 else 0 end) as bigint) as paying_days_active,
        cast(sum(completed_scans) as bigint) as completed_scans,
        min(first_completed_scan_at) as first_completed_scan_at,
        max(last_completed_scan_at) as last_completed_scan_at,
        max(activity_date) as last_active_date
    from added_days
    group by user_id
),

stored_totals as (
    -- the totals so far of the users with added days (none on a full build)
    select
        user_id,
        days_active,
        paying_days_active,
        completed_scans,
        first_completed_scan_at,
        last_completed_scan_at,
        last_active_date
    from added_totals
    where false
    {% if is_incremental() %}
        union all
        select
            user_id,
            days_active,
            paying_days_active,
            completed_scans,
            first_completed_scan_at,
            last_completed_scan_at,
            last_active_date
        from {{ this }}
        where user_id in (select added_totals.user_id from added_totals)
    {% endif %}
),

totals as (
    -- least() and greatest() skip a NULL (no stored row, or no completed scan)
    select
        added_totals.user_id,
        coalesce(stored_totals.days_active, 0) + added_totals.days_active as days_active,
        coalesce(stored_totals.paying_days_active, 0)
        + added_totals.paying_days_active as paying_days_active,
        coalesce(stored_totals.completed_scans, 0)
        + added_totals.completed_scans as completed_scans,
        least(stored_totals.first_completed_scan_at, added_totals.first_completed_scan_at)
            as first_completed_scan_at,
        greatest(stored_totals.last_completed_scan_at, added_totals.last_completed_scan_at)
            as last_completed_scan_at,
        greatest(stored_totals.last_active_date, added_totals.last_active_date)
            as last_active_date
    from added_totals
    left join stored_totals
        on added_totals.user_id = stored_totals.user_id
),

final as (
    select
        user_id,
        cast(days_active as bigint) as days_active,
        cast(paying_days_active as bigint) as paying_days_active,
        cast(completed_scans as bigint) as completed_scans,
        first_completed_scan_at,
        last_completed_scan_at,
        cast(last_active_date as date) as last_active_date
    from totals
)

select * from final
