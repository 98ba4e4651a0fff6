{{ config(**incremental_by_key_config('user_id')) }}
{{ config(**incremental_input_days_config(
    [
        {
            'input': 'int_user_activity_days',
            'date_column': 'activity_date',
            'columns': [
                'user_id',
                'activity_date',
                'completed_scans',
                'first_completed_scan_at',
                'last_completed_scan_at',
                'is_paying',
            ],
        },
        {
            'input': 'fct_scans',
            'date_column': 'scan_date',
            'columns': ['user_id', 'scanned_at', 'status'],
        },
    ],
    'last_active_date',
)) }}

-- One row per user: lifetime and recent scanning, active days and an engagement tier as of
-- the last day of data. Tiers, by completed scans in the last 30 days of data:
-- power (10 or more), engaged (3 to 9), casual (1 or 2), dormant (none, but scanned before),
-- never_scanned (no completed scan ever). No rows when the raw data holds no scans or sessions
-- at all (dim_data_coverage). Completed scans and active days are counted per user and day in
-- int_user_activity_days, and summed over the days no nightly run rebuilds in
-- int_user_activity_totals: a figure here is that sum plus the days after the newest day it
-- holds, and a window's figure is the difference of two such sums (the last 30 days: all days
-- less those before the last 30). The scans that did not complete come from fct_scans. At 1M
-- users a nightly run then aggregates the lookback's 0.2 M active days, not the last 60 days'
-- 2.5 M or all 8 M.
--
-- Incremental by user_id (macros/incremental_by_key.sql): a nightly run recomputes the users
-- whose row a new day can change, and replaces the rows that changed. A row changes when a day
-- the user was active or scanned on is new or re-selected, or enters or leaves the last 30
-- days or the 30 before them. With S the newest active day in the stored rows (no later than
-- the data end they were computed at) and E the data end now, those are the users active or
-- scanning on or after the lookback start (incremental_lookback_days before S), from 29 days
-- before S to 30 days before E, or from 59 days before S to 60 days before E, and the users
-- who signed up since the lookback start: about a quarter of the users at 1M. Of the lookback's
-- days, only those from the first whose active days or scans changed since the last run are
-- read (macros/incremental_input_months.sql: a fingerprint of each day of the lookback is kept
-- beside the table), usually the new day alone: at 1M users 150k users instead of 289k a night.

with

other_scans as (
    -- scans that did not complete (failed): about 3 % of them; the completed ones are counted
    -- per user and day in int_user_activity_days already
    select
        user_id,
        scanned_at
    from {{ ref('fct_scans') }}
    where status is distinct from 'completed'
),

data_end as (
    select max(date_day) as last_date from {{ ref('int_data_days') }}
),

{% if is_incremental() %}
changed_days as (
    -- S, the lookback start before it, the first day from it whose input changed, and the days
    -- that entered or left a window since S: up to 30 days before E, from 29 days before S; up
    -- to 60 days before E, from 59 before S
    select
        lookback.rebuilt_from,
        greatest(lookback.rebuilt_from, {{ incremental_first_changed_period() }})
            as first_changed_day,
        cast({{ dbt.dateadd('day', -59, 'lookback.stored_last_active_date') }} as date)
            as previous_window_from,
        cast({{ dbt.dateadd('day', -60, 'data_end.last_date') }} as date) as previous_window_to,
        cast({{ dbt.dateadd('day', -29, 'lookback.stored_last_active_date') }} as date)
            as last_window_from,
        cast({{ dbt.dateadd('day', -30, 'data_end.last_date') }} as date) as last_window_to,
        data_end.last_date
    from (
        select
            max(last_active_date) as stored_last_active_date,
            {{ incremental_rebuild_start('last_active_date') }} as rebuilt_from
        from {{ this }}
    ) as lookback
    cross join data_end
),

changed_dates as (
    -- each of those days, as rows to join on (a date range in a join condition is a nested
    -- loop over every active day); every day from 1900-01-01 when no row is stored (S is NULL)
    select series.series_date as changed_date
    from (
        {{ core_date_series(
            'day',
            'changed_days',
            'least(changed_days.rebuilt_from, changed_days.previous_window_from)',
            'changed_days.last_date'
        ) }}
    ) as series
    cross join changed_days
    where
        series.series_date >= changed_days.first_changed_day
        or series.series_date
        between changed_days.previous_window_from and changed_days.previous_window_to
        or series.series_date
        between changed_days.last_window_from and changed_days.last_window_to
),

changed_users as (
    -- active or scanning on one of those days, or signed up since the lookback start
    select activity_days.user_id
    from {{ ref('int_user_activity_days') }} as activity_days
    inner join changed_dates
        on activity_days.activity_date = changed_dates.changed_date

    union

    select other_scans.user_id
    from other_scans
    inner join changed_dates
        on cast(other_scans.scanned_at as date) = changed_dates.changed_date

    union

    select signups.user_id
    from {{ ref('stg_users') }} as signups
    cross join changed_days
    where signups.signup_date >= changed_days.rebuilt_from
),
{% endif %}

users as (
    select
        user_id,
        signed_up_at,
        acquisition_channel,
        segment,
        device
    from {{ ref('stg_users') }}
    {% if is_incremental() %}
        where user_id in (select changed_users.user_id from changed_users)
    {% endif %}
),

activity_totals as (
    select
        user_id,
        days_active,
        paying_days_active,
        completed_scans,
        first_completed_scan_at,
        last_completed_scan_at,
        last_active_date,
        days_active_before_last_30_days,
        completed_scans_before_last_30_days,
        completed_scans_before_last_60_days
    from {{ ref('int_user_activity_totals') }}
),

totals_end as (
    -- the active days after this one are not in the sums (none are: 1900-01-01)
    select coalesce(max(last_active_date), cast('1900-01-01' as date)) as last_totalled_date
    from activity_totals
),

recent_days as (
    -- one range of days, so the scan skips the row groups before it
    select
        user_id,
        activity_date,
        completed_scans,
        first_completed_scan_at,
        last_completed_scan_at,
        is_paying
    from {{ ref('int_user_activity_days') }}
    where activity_date > (select totals_end.last_totalled_date from totals_end)
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

recent_activity as (
    -- the days after the sums, summed as int_user_activity_totals sums (a window's first day
    -- can be among them); a scan on or after the first of the last 30 days (at its midnight)
    -- is a scan of one of those days
    select
        recent_days.user_id,
        count(*) as days_active,
        sum(case when recent_days.is_paying then 1 else 0 end) as paying_days_active,
        sum(recent_days.completed_scans) as completed_scans,
        min(recent_days.first_completed_scan_at) as first_completed_scan_at,
        max(recent_days.last_completed_scan_at) as last_completed_scan_at,
        max(recent_days.activity_date) as last_active_date,
        sum(
            case
                when recent_days.activity_date < {{ dbt.dateadd('day', -29, 'data_end.last_date') }}
                    then 1
                else 0
            end
        ) as days_active_before_last_30_days,
        sum(
            case
                when recent_days.activity_date < {{ dbt.dateadd('day', -29, 'data_end.last_date') }}
                    then recent_days.completed_scans
                else 0
            end
        ) as completed_scans_before_last_30_days,
        sum(
            case
                when recent_days.activity_date < {{ dbt.dateadd('day', -59, 'data_end.last_date') }}
                    then recent_days.completed_scans
                else 0
            end
        ) as completed_scans_before_last_60_days
    from recent_days
    cross join data_end
    group by recent_days.user_id
),

user_sums as (
    -- every user with each sum over all their active days: the stored one plus the days after
    -- it
    select
        users.user_id,
        users.signed_up_at,
        users.acquisition_channel,
        users.segment,
        users.device,
        {% for column in [
            'days_active',
            'paying_days_active',
            'completed_scans',
            'days_active_before_last_30_days',
            'completed_scans_before_last_30_days',
            'completed_scans_before_last_60_days',
        ] %}
        coalesce(activity_totals.{{ column }}, 0)
        + coalesce(recent_activity.{{ column }}, 0) as {{ column }},
        {% endfor %}
        -- least() and greatest() skip a NULL (no stored sum, no day after it)
        least(
            activity_totals.first_completed_scan_at, recent_activity.first_completed_scan_at
        ) as first_completed_scan_at,
        greatest(
            activity_totals.last_completed_scan_at, recent_activity.last_completed_scan_at
        ) as last_completed_scan_at,
        greatest(activity_totals.last_active_date, recent_activity.last_active_date)
            as last_active_date
    from users
    left join activity_totals
        on users.user_id = activity_totals.user_id
    left join recent_activity
        on users.user_id = recent_activity.user_id
),

user_figures as (
    -- every scan, completed or not, and the active days; the windows as differences of sums.
    -- least() and greatest() skip a NULL (no completed or no other scan)
    select
        user_sums.user_id,
        user_sums.signed_up_at,
        user_sums.acquisition_channel,
        user_sums.segment,
        user_sums.device,
        user_sums.completed_scans as completed_scans_total,
        coalesce(user_other_scans.other_scans_total, 0) as other_scans_total,
        user_sums.completed_scans - user_sums.completed_scans_before_last_30_days
            as completed_scans_last_30_days,
        coalesce(user_other_scans.other_scans_last_30_days, 0) as other_scans_last_30_days,
        user_sums.completed_scans_before_last_30_days
        - user_sums.completed_scans_before_last_60_days as completed_scans_previous_30_days,
        least(user_sums.first_completed_scan_at, user_other_scans.first_other_scan_at)
            as first_scan_at,
        greatest(user_sums.last_completed_scan_at, user_other_scans.last_other_scan_at)
            as last_scan_at,
        user_sums.days_active,
        user_sums.days_active - user_sums.days_active_before_last_30_days
            as days_active_last_30_days,
        user_sums.paying_days_active,
        user_sums.last_active_date
    from user_sums
    left join user_other_scans
        on user_sums.user_id = user_other_scans.user_id
),

final as (
    select
        user_id,
        signed_up_at,
        acquisition_channel,
        segment,
        device,
        cast(completed_scans_total + other_scans_total as bigint) as scans_total,
        cast(completed_scans_total as bigint) as completed_scans_total,
        cast(completed_scans_last_30_days + other_scans_last_30_days as bigint)
            as scans_last_30_days,
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
