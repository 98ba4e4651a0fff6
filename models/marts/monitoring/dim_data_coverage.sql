-- One row per data area the reports need: whether the raw data holds it, and what to tell a
-- reader when it does not. A team importing only its billing system (Stripe) has empty
-- raw_scans, raw_sessions and often raw_marketing_spend; a team importing only its product
-- database has empty raw_subscriptions and raw_invoices. The models, the report pages and the
-- AI read this table, the one place that says which figures can be computed.
--   billing          raw_subscriptions (invoices need a subscription): MRR and its bridge,
--                    plans, customers, payments, churn, paid funnel stages, finance metrics
--   scans            raw_scans: scan volume, quality and speed, scanned/activated funnel
--                    stages, scan-based engagement and customer risk
--   sessions         raw_sessions: visitors, signup rate, the visitors funnel stage
--   product_events   scans or sessions: active users (DAU/WAU/MAU), activity retention
--   marketing_spend  raw_marketing_spend: spend, CAC, LTV:CAC, CAC payback

with

scans as (
    select count(*) as row_count from {{ ref('stg_scans') }}
),

sessions as (
    select count(*) as row_count from {{ ref('stg_sessions') }}
),

marketing_spend as (
    select count(*) as row_count from {{ ref('stg_marketing_spend') }}
),

subscriptions as (
    select count(*) as row_count from {{ ref('stg_subscriptions') }}
),

invoices as (
    select count(*) as row_count from {{ ref('stg_invoices') }}
),

areas as (
    select
        'scans' as data_area,
        'raw_scans' as source_tables,
        scans.row_count,
        'scans' as data_label
    from scans

    union all

    select
        'sessions' as data_area,
        'raw_sessions' as source_tables,
        sessions.row_count,
        'sessions' as data_label
    from sessions

    union all

    select
        'product_events' as data_area,
        'raw_scans, raw_sessions' as source_tables,
        scans.row_count + sessions.row_count as row_count,
        'scans or sessions' as data_label
    from scans
    cross join sessions

    union all

    select
        'marketing_spend' as data_area,
        'raw_marketing_spend' as source_tables,
        marketing_spend.row_count,
        'marketing spend' as data_label
    from marketing_spend

    union all

    select
        'billing' as data_area,
        'raw_subscriptions, raw_invoices' as source_tables,
        -- an invoice belongs to a subscription (relationships test): present = subscriptions
        subscriptions.row_count + invoices.row_count as row_count,
        'subscriptions or invoices' as data_label
    from subscriptions
    cross join invoices
),

final as (
    select
        data_area,
        source_tables,
        data_label,
        cast(row_count as bigint) as row_count,
        row_count > 0 as is_present,
        {{ dbt.concat(["'the raw data holds no '", 'data_label']) }} as absence_note
    from areas
)

select * from final
