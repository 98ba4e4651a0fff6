-- Signups agree everywhere they appear: per month, the users who signed up (stg_users) equal
-- the funnel's signups stage, the signup cohort's users, fct_channel_performance's blended
-- signups and fct_funnel_by_channel's `all` row; per day, fct_metric_daily's `signups` equals
-- the sum of its signups__<channel> metrics. Returns the disagreements. The signup cohorts
-- are compared only when the raw data holds scans or sessions: without them
-- fct_signup_cohort_activity has no rows (dim_data_coverage).

with

users_by_month as (
    select
        cast({{ dbt.date_trunc('month', 'signed_up_at') }} as date) as month,
        count(*) as signups
    from {{ ref('stg_users') }}
    group by {{ dbt.date_trunc('month', 'signed_up_at') }}
),

funnel as (
    select
        funnel_month as month,
        users as signups
    from {{ ref('fct_funnel_monthly') }}
    where dimension = 'all' and stage = 'signups'
),

funnel_wide as (
    select
        funnel_month as month,
        signups
    from {{ ref('fct_funnel_by_channel') }}
    where channel = 'all'
),

cohorts as (
    select
        signup_month as month,
        cohort_users as signups
    from {{ ref('fct_signup_cohort_activity') }}
    where dimension = 'all' and months_since_signup = 0
),

channels as (
    select
        performance_month as month,
        signups
    from {{ ref('fct_channel_performance') }}
    where channel = 'all'
),

monthly_mismatches as (
    select
        users_by_month.month as period_date,
        'monthly signups' as check_name,
        users_by_month.signups as expected,
        coalesce(funnel.signups, -1) as funnel_signups,
        coalesce(funnel_wide.signups, -1) as funnel_wide_signups,
        coalesce(cohorts.signups, -1) as cohort_signups,
        coalesce(channels.signups, -1) as channel_signups
    from users_by_month
    left join funnel on users_by_month.month = funnel.month
    left join funnel_wide on users_by_month.month = funnel_wide.month
    left join cohorts on users_by_month.month = cohorts.month
    left join channels on users_by_month.month = channels.month
    where
        users_by_month.signups != coalesce(funnel.signups, -1)
        or users_by_month.signups != coalesce(funnel_wide.signups, -1)
        or (
            users_by_month.signups != coalesce(cohorts.signups, -1)
            and {{ core_data_area_present('product_events') }}
        )
        or users_by_month.signups != coalesce(channels.signups, -1)
),

daily_metrics as (
    select
        metric_date,
        sum(case when metric = 'signups' then value else 0 end) as signups,
        sum(case when substr(metric, 1, 9) = 'signups__' then value else 0 end)
            as channel_signups
    from {{ ref('fct_metric_daily') }}
    group by metric_date
),

daily_mismatches as (
    select
        metric_date as period_date,
        'daily signups' as check_name,
        cast(signups as bigint) as expected,
        cast(channel_signups as bigint) as funnel_signups,
        cast(null as bigint) as funnel_wide_signups,
        cast(null as bigint) as cohort_signups,
        cast(null as bigint) as channel_signups
    from daily_metrics
    where signups != channel_signups
)

select * from monthly_mismatches
union all
select * from daily_mismatches
