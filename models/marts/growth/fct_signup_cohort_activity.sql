{{ config(**incremental_by_date_config('activity_month')) }}
{{ config(**incremental_data_end_config('int_data_months', 'month_end_date')) }}

-- One row per (signup month, dimension, dimension value, months since signup): how many of
-- the users who signed up in a month were active (a completed scan or a signed-in session) in
-- each later month. Long format: dimension is 'all', 'acquisition_channel', 'segment' or
-- 'device'. Month 0 is the signup month itself. No rows when the raw data holds no scans or
-- sessions at all (dim_data_coverage): activity cannot be measured.
-- Incremental by month (macros/incremental_by_date.sql with activity_month as the key): a
-- nightly run rewrites the activity months from the month holding the lookback start,
-- incremental_lookback_days before the last day of the data the table was built from (kept
-- beside it: macros/incremental_kept_data_end.sql): mid-month the current month alone. Rows of
-- earlier activity months cannot change: their cohorts signed up before them, and their active
-- users are counted from days before the lookback.

with

rebuilt_months as (
    -- the first activity month this run writes: every month on a full build
    select
        {{ incremental_kept_rebuild_month('activity_month') }} as rebuild_from
),

users as (
    select
        user_id,
        cast({{ dbt.date_trunc('month', 'signed_up_at') }} as date) as signup_month,
        acquisition_channel,
        segment,
        device
    from {{ ref('stg_users') }}
),

calendar_months as (
    select month as calendar_month from {{ ref('int_data_months') }}
    where month >= (select rebuilt_months.rebuild_from from rebuilt_months)
),

active_user_months as (
    select distinct
        user_id,
        cast({{ dbt.date_trunc('month', 'activity_date') }} as date) as activity_month
    from {{ ref('int_user_activity_days') }}
    where activity_date >= (select rebuilt_months.rebuild_from from rebuilt_months)
),

user_groups as (
    -- users per cohort at the finest slicing grain
    select
        signup_month,
        acquisition_channel,
        segment,
        device,
        count(*) as cohort_users
    from users
    group by signup_month, acquisition_channel, segment, device
),

active_groups as (
    select
        users.signup_month,
        users.acquisition_channel,
        users.segment,
        users.device,
        active_user_months.activity_month,
        count(*) as active_users
    from active_user_months
    inner join users
        on active_user_months.user_id = users.user_id
    group by
        users.signup_month,
        users.acquisition_channel,
        users.segment,
        users.device,
        active_user_months.activity_month
),

group_months as (
    -- every cohort group in every month from its signup month to the last month of data
    select
        user_groups.signup_month,
        user_groups.acquisition_channel,
        user_groups.segment,
        user_groups.device,
        calendar_months.calendar_month as activity_month,
        user_groups.cohort_users,
        coalesce(active_groups.active_users, 0) as active_users
    from user_groups
    inner join calendar_months
        on user_groups.signup_month <= calendar_months.calendar_month
    left join active_groups
        on
            user_groups.signup_month = active_groups.signup_month
            and user_groups.acquisition_channel = active_groups.acquisition_channel
            and user_groups.segment = active_groups.segment
            and user_groups.device = active_groups.device
            and calendar_months.calendar_month = active_groups.activity_month
),

cohort_months as (
    {{ analytics_dimension_rollup(
        'group_months',
        ['signup_month', 'activity_month'],
        ['acquisition_channel', 'segment', 'device'],
        {
            'cohort_users': 'sum(cohort_users)',
            'active_users': 'sum(active_users)',
        }
    ) }}
),

final as (
    select
        signup_month,
        dimension,
        dimension_value,
        cast({{ dbt.datediff('signup_month', 'activity_month', 'month') }} as integer)
            as months_since_signup,
        activity_month,
        cast(cohort_users as bigint) as cohort_users,
        cast(active_users as bigint) as active_users,
        cast(active_users as {{ analytics_type_double() }}) / nullif(cohort_users, 0)
            as activity_retention
    from cohort_months
    -- no scans or sessions in the raw data at all: no rows, not cohorts that are never active
    where {{ core_data_area_present('product_events') }}
)

select * from final
