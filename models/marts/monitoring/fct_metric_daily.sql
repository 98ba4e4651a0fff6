-- The key daily metrics in one long table (metric_date, metric, value, unit): the input of
-- anomaly detection and daily threshold alerts. Metric names are the team's shared names:
-- signups, signups__<channel>, new_mrr, churned_mrr, churned_customers, scans, failure_rate,
-- p95_processing_ms, avg_match_rate, dau. Every metric has a row for every day of data, except
-- that the product metrics have none when the raw data holds no scans or sessions
-- (fct_product_daily is then empty; dim_data_coverage), and the billing metrics (new_mrr,
-- churned_mrr, churned_customers) none when it holds no subscriptions or invoices.
-- The metrics are the one list daily_metrics below (name, unit, the CTE whose column of that
-- name holds it); signups__<channel> follow the channels seed.

{%- set daily_metrics = [
    ('signups', 'count', 'day_values'),
    ('new_mrr', 'usd', 'day_values'),
    ('churned_mrr', 'usd', 'day_values'),
    ('churned_customers', 'count', 'day_values'),
    ('scans', 'count', 'product_daily'),
    ('failure_rate', 'ratio', 'product_daily'),
    ('p95_processing_ms', 'ms', 'product_daily'),
    ('avg_match_rate', 'points', 'product_daily'),
    ('dau', 'count', 'product_daily'),
] %}
{%- set billing_metrics = ['new_mrr', 'churned_mrr', 'churned_customers'] %}

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
    select
        activity_date as metric_date,
        scans,
        failure_rate,
        p95_processing_ms,
        avg_match_rate,
        dau
    from {{ ref('fct_product_daily') }}
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

day_values as (
    -- one row per day of data: the day's signups and MRR movements, 0 on days without any
    select
        days.calendar_date as metric_date,
        coalesce(daily_signups.signups, 0) as signups,
        coalesce(mrr_daily.new_mrr, 0) as new_mrr,
        -- reported as a positive amount, so a churn spike is an upward move
        abs(coalesce(mrr_daily.churned_mrr, 0)) as churned_mrr,
        coalesce(mrr_daily.churned_customers, 0) as churned_customers
    from days
    left join daily_signups
        on days.calendar_date = daily_signups.signup_date
    left join mrr_daily
        on days.calendar_date = mrr_daily.calendar_date
),

metrics as (
    {{ analytics_metrics_long(daily_metrics, 'metric_date') }}

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
),

final as (
    select
        metric_date,
        metric,
        cast(value as {{ analytics_type_double() }}) as value,
        unit
    from metrics
    where
        {{ core_data_area_present('billing') }}
        or metric not in ('{{ billing_metrics | join("', '") }}')
)

select * from final
