-- The key daily metrics in one long table (metric_date, metric, value, unit): the input of
-- anomaly detection and daily threshold alerts. Metric names are the team's shared names:
-- signups, signups__<channel>, new_mrr, churned_mrr, churned_customers, scans, failure_rate,
-- p95_processing_ms, avg_match_rate, dau. Every metric has a row for every day of data.

with

days as (
    select date_day as calendar_date from {{ ref('int_data_days') }}
),

channels as (
    select channel from {{ ref('channels') }}
),

users as (
    select
        cast(signed_up_at as date) as signup_date,
        acquisition_channel
    from {{ ref('stg_users') }}
),

mrr_daily as (
    select
        cast(date_day as date) as calendar_date,
        new_mrr,
        churned_mrr,
        churned_customers
    from {{ ref('fct_mrr_daily') }}
),

product_daily as (
    select * from {{ ref('fct_product_daily') }}
),

daily_signups as (
    select
        signup_date,
        count(*) as signups
    from users
    group by signup_date
),

channel_signups as (
    select
        signup_date,
        acquisition_channel,
        count(*) as signups
    from users
    group by signup_date, acquisition_channel
),

metrics as (
    select
        days.calendar_date as metric_date,
        'signups' as metric,
        coalesce(daily_signups.signups, 0) as value,
        'count' as unit
    from days
    left join daily_signups
        on days.calendar_date = daily_signups.signup_date

    union all

    select
        days.calendar_date as metric_date,
        {{ dbt.concat(["'signups__'", 'channels.channel']) }} as metric,
        coalesce(channel_signups.signups, 0) as value,
        'count' as unit
    from days
    cross join channels
    left join channel_signups
        on
            days.calendar_date = channel_signups.signup_date
            and channels.channel = channel_signups.acquisition_channel

    union all

    select
        days.calendar_date as metric_date,
        'new_mrr' as metric,
        coalesce(mrr_daily.new_mrr, 0) as value,
        'usd' as unit
    from days
    left join mrr_daily
        on days.calendar_date = mrr_daily.calendar_date

    union all

    -- reported as a positive amount, so a churn spike is an upward move
    select
        days.calendar_date as metric_date,
        'churned_mrr' as metric,
        abs(coalesce(mrr_daily.churned_mrr, 0)) as value,
        'usd' as unit
    from days
    left join mrr_daily
        on days.calendar_date = mrr_daily.calendar_date

    union all

    select
        days.calendar_date as metric_date,
        'churned_customers' as metric,
        coalesce(mrr_daily.churned_customers, 0) as value,
        'count' as unit
    from days
    left join mrr_daily
        on days.calendar_date = mrr_daily.calendar_date

    union all

    select
        activity_date,
        'scans',
        scans,
        'count'
    from product_daily
    union all
    select
        activity_date,
        'failure_rate',
        failure_rate,
        'ratio'
    from product_daily
    union all
    select
        activity_date,
        'p95_processing_ms',
        p95_processing_ms,
        'ms'
    from product_daily
    union all
    select
        activity_date,
        'avg_match_rate',
        avg_match_rate,
        'points'
    from product_daily
    union all
    select
        activity_date,
        'dau',
        dau,
        'count'
    from product_daily
),

final as (
    select
        metric_date,
        metric,
        cast(value as {{ analytics_type_double() }}) as value,
        unit
    from metrics
)

select * from final
