{{ config(**incremental_by_date_config('funnel_month')) }}
{{ config(**incremental_input_months_config(
    'int_funnel_users',
    'signup_month',
    none,
    [
        'signup_month',
        'signed_up_at',
        'acquisition_channel',
        'segment',
        'device',
        'first_visit_at',
        'scanned_at',
        'activated_at',
        'converted_at',
        'retained_at',
        'is_scanned',
        'is_activated',
        'is_converted',
        'is_retained',
    ],
    [{'name': 'dim_data_coverage', 'columns': ['data_area', 'is_present']}],
)) }}

-- One row per (funnel month, dimension, dimension value, stage) of the ordered funnel
-- visitors → signups → scanned → activated → converted → retained.
-- Visitors are counted in the month of their first session (attributed to that session's
-- channel and device); users are counted in their signup month with every later stage they
-- reached (see int_funnel_users), so a month's row is a cohort, not the month's events.
-- Long format: dimension is 'all', 'acquisition_channel', 'segment' or 'device'; visitors are
-- anonymous, so the visitors stage is NULL in the segment slice.
-- Stages the raw data cannot measure (dim_data_coverage) have no rows: visitors without
-- sessions; scanned and every later stage of the ordered funnel without scans; converted and
-- retained (paying) without billing data. The visitor counts the other stages are divided by
-- are then NULL too, not 0.
--
-- Incremental by month (macros/incremental_by_date.sql with funnel_month as the key): a month's
-- rows depend only on the users who signed up in it, the visitors who first came in it, the
-- data coverage and whether the month is mature yet. A nightly run aggregates again from the
-- first month where one of those changed: a month whose users in int_funnel_users are not the
-- same as when it was aggregated (every month is compared, by a fingerprint kept beside the
-- table: macros/incremental_input_months.sql; a user's first visit, hence their signup month's
-- hours to signup, can change long after they signed up), the month holding the lookback start
-- (incremental_lookback_days before the newest stored month's first day: int_visitors only
-- changes visitors from its own lookback on) and the first month whose is_mature changed.
-- The other months keep their rows. At 1M users the five medians of the four slices are most
-- of the model's time; a nightly run computes them for two or three months instead of all.

{% set hours_in_seconds = 'cast(3600 as ' ~ analytics_type_double() ~ ')' %}

with

data_end as (
    select max(date_day) as last_date from {{ ref('int_data_days') }}
),

{% if is_incremental() %}
newly_mature as (
    -- the first stored month whose is_mature is not what it is now: a month matures on the
    -- night the data reaches 60 days after its end
    select min(stored.funnel_month) as first_month
    from {{ this }} as stored
    cross join data_end
    where
        stored.is_mature
        != ({{ analytics_funnel_is_mature('stored.funnel_month', 'data_end.last_date') }})
),

rebuilt_months as (
    -- the first month this run writes
    select
        least(
            {{ incremental_first_changed_period() }},
            {{ incremental_lookback_month('funnel_month') }},
            coalesce(newly_mature.first_month, cast('9999-12-01' as date))
        ) as rebuild_from
    from newly_mature
),
{% else %}
rebuilt_months as (
    -- every month on a full build
    select cast('1900-01-01' as date) as rebuild_from
),
{% endif %}

funnel_users as (
    -- the columns fingerprinted above
    select
        signup_month,
        signed_up_at,
        acquisition_channel,
        segment,
        device,
        first_visit_at,
        scanned_at,
        activated_at,
        converted_at,
        retained_at,
        is_scanned,
        is_activated,
        is_converted,
        is_retained
    from {{ ref('int_funnel_users') }}
    where signup_month >= (select rebuilt_months.rebuild_from from rebuilt_months)
),

visitors as (
    select
        first_visit_month,
        channel,
        device
    from {{ ref('int_visitors') }}
    where first_visit_month >= (select rebuilt_months.rebuild_from from rebuilt_months)
),

user_stages as (
    select
        signup_month as funnel_month,
        acquisition_channel,
        segment,
        device,
        case when is_scanned then 1 else 0 end as scanned,
        case when is_activated then 1 else 0 end as activated,
        case when is_converted then 1 else 0 end as converted,
        case when is_retained then 1 else 0 end as retained,
        {{ dbt.datediff('first_visit_at', 'signed_up_at', 'second') }} / {{ hours_in_seconds }}
            as hours_to_signup,
        {{ dbt.datediff('signed_up_at', 'scanned_at', 'second') }} / {{ hours_in_seconds }}
            as hours_to_scanned,
        {{ dbt.datediff('scanned_at', 'activated_at', 'second') }} / {{ hours_in_seconds }}
            as hours_to_activated,
        {{ dbt.datediff('activated_at', 'converted_at', 'second') }} / {{ hours_in_seconds }}
            as hours_to_converted,
        {{ dbt.datediff('converted_at', 'retained_at', 'second') }} / {{ hours_in_seconds }}
            as hours_to_retained
    from funnel_users
),

visitor_months as (
    -- counted per month, channel and device once; the slices below add these up
    select
        first_visit_month as funnel_month,
        channel as acquisition_channel,
        device,
        count(*) as visitors
    from visitors
    group by first_visit_month, channel, device
),

user_counts as (
    {{ analytics_dimension_rollup(
        'user_stages',
        ['funnel_month'],
        ['acquisition_channel', 'segment', 'device'],
        {
            'signups': 'count(*)',
            'scanned': 'sum(scanned)',
            'activated': 'sum(activated)',
            'converted': 'sum(converted)',
            'retained': 'sum(retained)',
            'median_hours_to_signup': analytics_median('hours_to_signup'),
            'median_hours_to_scanned': analytics_median('hours_to_scanned'),
            'median_hours_to_activated': analytics_median('hours_to_activated'),
            'median_hours_to_converted': analytics_median('hours_to_converted'),
            'median_hours_to_retained': analytics_median('hours_to_retained'),
        }
    ) }}
),

visitor_counts as (
    {{ analytics_dimension_rollup(
        'visitor_months',
        ['funnel_month'],
        ['acquisition_channel', 'device'],
        {'visitors': 'sum(visitors)'}
    ) }}
),

slices as (
    select
        funnel_month,
        dimension,
        dimension_value
    from user_counts
    union
    select
        funnel_month,
        dimension,
        dimension_value
    from visitor_counts
),

slice_counts as (
    select
        slices.funnel_month,
        slices.dimension,
        slices.dimension_value,
        case
            when
                slices.dimension != 'segment'
                and {{ core_data_area_present('sessions') }}
                then coalesce(visitor_counts.visitors, 0)
        end as visitors,
        coalesce(user_counts.signups, 0) as signups,
        coalesce(user_counts.scanned, 0) as scanned,
        coalesce(user_counts.activated, 0) as activated,
        coalesce(user_counts.converted, 0) as converted,
        coalesce(user_counts.retained, 0) as retained,
        user_counts.median_hours_to_signup,
        user_counts.median_hours_to_scanned,
        user_counts.median_hours_to_activated,
        user_counts.median_hours_to_converted,
        user_counts.median_hours_to_retained
    from slices
    left join user_counts
        on
            slices.funnel_month = user_counts.funnel_month
            and slices.dimension = user_counts.dimension
            and slices.dimension_value = user_counts.dimension_value
    left join visitor_counts
        on
            slices.funnel_month = visitor_counts.funnel_month
            and slices.dimension = visitor_counts.dimension
            and slices.dimension_value = visitor_counts.dimension_value
),

stage_list as (
    select
        stage_rows.stage,
        stage_rows.stage_order
    from (
        values
        ('visitors', 1),
        ('signups', 2),
        ('scanned', 3),
        ('activated', 4),
        ('converted', 5),
        ('retained', 6)
    ) as stage_rows (stage, stage_order)
),

stages as (
    -- one row per stage: its users, the previous stage's users and the hours between them
    select
        slice_counts.funnel_month,
        slice_counts.dimension,
        slice_counts.dimension_value,
        slice_counts.visitors as funnel_visitors,
        slice_counts.signups as funnel_signups,
        stage_list.stage,
        stage_list.stage_order,
        case stage_list.stage
            when 'visitors' then slice_counts.visitors
            when 'signups' then slice_counts.signups
            when 'scanned' then slice_counts.scanned
            when 'activated' then slice_counts.activated
            when 'converted' then slice_counts.converted
            when 'retained' then slice_counts.retained
        end as stage_users,
        case stage_list.stage
            when 'signups' then slice_counts.visitors
            when 'scanned' then slice_counts.signups
            when 'activated' then slice_counts.scanned
            when 'converted' then slice_counts.activated
            when 'retained' then slice_counts.converted
        end as previous_stage_users,
        case stage_list.stage
            when 'signups' then slice_counts.median_hours_to_signup
            when 'scanned' then slice_counts.median_hours_to_scanned
            when 'activated' then slice_counts.median_hours_to_activated
            when 'converted' then slice_counts.median_hours_to_converted
            when 'retained' then slice_counts.median_hours_to_retained
        end as median_hours_from_previous_stage
    from slice_counts
    cross join stage_list
    where
        (stage_list.stage != 'visitors' or {{ core_data_area_present('sessions') }})
        and (stage_list.stage_order < 3 or {{ core_data_area_present('scans') }})
        and (stage_list.stage_order < 5 or {{ core_data_area_present('billing') }})
),

final as (
    select
        stages.funnel_month,
        stages.dimension,
        stages.dimension_value,
        stages.stage,
        cast(stages.stage_order as integer) as stage_order,
        cast(stages.stage_users as bigint) as users,
        cast(stages.previous_stage_users as bigint) as previous_stage_users,
        cast(stages.stage_users as {{ analytics_type_double() }})
        / nullif(stages.previous_stage_users, 0) as step_conversion_rate,
        cast(stages.stage_users as {{ analytics_type_double() }})
        / nullif(stages.funnel_visitors, 0) as cumulative_conversion_rate,
        case
            when stages.stage_order >= 2
                then
                    cast(stages.stage_users as {{ analytics_type_double() }})
                    / nullif(stages.funnel_signups, 0)
        end as conversion_from_signup_rate,
        cast(stages.median_hours_from_previous_stage as {{ analytics_type_double() }})
            as median_hours_from_previous_stage,
        {{ analytics_funnel_is_mature('stages.funnel_month', 'data_end.last_date') }} as is_mature
    from stages
    cross join data_end
)

select * from final
