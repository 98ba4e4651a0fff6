-- One row per (funnel month, acquisition channel), plus a row per month with channel = 'all':
-- the funnel of fct_funnel_monthly pivoted wide, with each stage's conversion rates. A stage
-- fct_funnel_monthly leaves out (the raw data cannot measure it) is NULL here, and so are the
-- rates built on it.

with

funnel as (
    select * from {{ ref('fct_funnel_monthly') }}
    where dimension in ('all', 'acquisition_channel')
),

wide as (
    select
        funnel_month,
        dimension_value as channel,
        max(case when is_mature then 1 else 0 end) as is_mature,
        sum(case when stage = 'visitors' then users end) as visitors,
        sum(case when stage = 'signups' then users end) as signups,
        sum(case when stage = 'scanned' then users end) as scanned,
        sum(case when stage = 'activated' then users end) as activated,
        sum(case when stage = 'converted' then users end) as converted,
        sum(case when stage = 'retained' then users end) as retained,
        max(case when stage = 'signups' then median_hours_from_previous_stage end)
            as median_hours_visit_to_signup,
        max(case when stage = 'scanned' then median_hours_from_previous_stage end)
            as median_hours_signup_to_scan,
        max(case when stage = 'activated' then median_hours_from_previous_stage end)
            as median_hours_scan_to_activation,
        max(case when stage = 'converted' then median_hours_from_previous_stage end)
            as median_hours_activation_to_conversion
    from funnel
    group by funnel_month, dimension_value
),

final as (
    select
        funnel_month,
        channel,
        cast(visitors as bigint) as visitors,
        cast(signups as bigint) as signups,
        cast(scanned as bigint) as scanned,
        cast(activated as bigint) as activated,
        cast(converted as bigint) as converted,
        cast(retained as bigint) as retained,
        cast(signups as {{ analytics_type_double() }}) / nullif(visitors, 0) as signup_rate,
        cast(scanned as {{ analytics_type_double() }}) / nullif(signups, 0) as scan_rate,
        cast(activated as {{ analytics_type_double() }}) / nullif(scanned, 0) as activation_rate,
        cast(converted as {{ analytics_type_double() }}) / nullif(activated, 0) as conversion_rate,
        cast(retained as {{ analytics_type_double() }}) / nullif(converted, 0) as retention_rate,
        cast(converted as {{ analytics_type_double() }}) / nullif(signups, 0) as signup_to_paid_rate,
        cast(converted as {{ analytics_type_double() }}) / nullif(visitors, 0)
            as visitor_to_paid_rate,
        cast(median_hours_visit_to_signup as {{ analytics_type_double() }})
            as median_hours_visit_to_signup,
        cast(median_hours_signup_to_scan as {{ analytics_type_double() }})
            as median_hours_signup_to_scan,
        cast(median_hours_scan_to_activation as {{ analytics_type_double() }})
            as median_hours_scan_to_activation,
        cast(median_hours_activation_to_conversion as {{ analytics_type_double() }})
            as median_hours_activation_to_conversion,
        is_mature = 1 as is_mature
    from wide
)

select * from final
