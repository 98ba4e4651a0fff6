{{ config(materialized='table') }}

-- One row: the first and last calendar day of the data. Every daily and monthly series
-- (fct_mrr_daily, fct_mrr_monthly, fct_customer_mrr_monthly) covers exactly these days.
-- The span runs from the earliest to the latest event in any raw table (signups, sessions,
-- scans, subscription starts, invoices, marketing spend); subscription end instants are not
-- events of the data window (an ended_at may be scheduled after the last day).

with

event_days as (
    select
        min(signup_date) as first_date,
        max(signup_date) as last_date
    from {{ ref('stg_users') }}
    union all
    select
        cast(min(started_at) as date) as first_date,
        cast(max(started_at) as date) as last_date
    from {{ ref('stg_sessions') }}
    union all
    select
        cast(min(scanned_at) as date) as first_date,
        cast(max(scanned_at) as date) as last_date
    from {{ ref('stg_scans') }}
    union all
    select
        cast(min(started_at) as date) as first_date,
        cast(max(started_at) as date) as last_date
    from {{ ref('stg_subscriptions') }}
    union all
    select
        cast(min(issued_at) as date) as first_date,
        cast(max(issued_at) as date) as last_date
    from {{ ref('stg_invoices') }}
    union all
    select
        min(spend_date) as first_date,
        max(spend_date) as last_date
    from {{ ref('stg_marketing_spend') }}
),

final as (
    select
        min(first_date) as data_start_date,
        max(last_date) as data_end_date
    from event_days
)

select * from final
