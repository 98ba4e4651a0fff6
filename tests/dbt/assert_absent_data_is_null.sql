-- A data area the raw data does not hold (dim_data_coverage: a billing-only import has no
-- scans, sessions or marketing spend, a product-only import no subscriptions or invoices)
-- leaves its figures out, and only then: the product marts and the signup cohorts' activity
-- have rows exactly when there are scans or sessions, the funnel's visitors stage exactly when
-- there are sessions, its scanned-and-later stages exactly when there are scans and its
-- converted-and-later stages exactly when there are scans and billing; the MRR marts, plan
-- performance and the billing metrics of fct_metric_daily have rows exactly when there is
-- billing; visitors, spend, the scan-based engagement trend, the channels' customers and MRR,
-- the paying/free splits of activity and the customers' paying figures and status are NULL
-- exactly when their area is absent (0 would pretend to be a measurement). Returns each broken rule with its count of offending rows.

with

coverage as (
    select
        max(case when data_area = 'scans' and is_present then 1 else 0 end) as has_scans,
        max(case when data_area = 'sessions' and is_present then 1 else 0 end) as has_sessions,
        max(case when data_area = 'product_events' and is_present then 1 else 0 end)
            as has_product_events,
        max(case when data_area = 'marketing_spend' and is_present then 1 else 0 end)
            as has_marketing_spend,
        max(case when data_area = 'billing' and is_present then 1 else 0 end) as has_billing
    from {{ ref('dim_data_coverage') }}
),

mart_counts as (
    select
        (select count(*) from {{ ref('fct_product_daily') }}) as product_daily_rows,
        (select count(*) from {{ ref('fct_user_engagement') }}) as user_engagement_rows,
        (select count(*) from {{ ref('fct_signup_cohort_activity') }}) as cohort_activity_rows,
        (
            select count(*) from {{ ref('fct_funnel_monthly') }} as funnel
            where funnel.stage = 'visitors'
        ) as funnel_visitor_rows,
        (
            select count(*) from {{ ref('fct_funnel_monthly') }} as funnel
            where funnel.stage_order >= 3
        ) as funnel_scan_stage_rows,
        (
            select count(*) from {{ ref('fct_funnel_monthly') }} as funnel
            where funnel.stage_order >= 5
        ) as funnel_paid_stage_rows,
        (select count(*) from {{ ref('fct_mrr_daily') }}) as mrr_daily_rows,
        (select count(*) from {{ ref('fct_mrr_monthly') }}) as mrr_monthly_rows,
        (select count(*) from {{ ref('fct_mrr_monthly_by_dimension') }}) as mrr_by_dimension_rows,
        (select count(*) from {{ ref('fct_plan_performance') }}) as plan_performance_rows,
        (
            select count(*) from {{ ref('fct_metric_daily') }} as metrics
            where metrics.metric in ('new_mrr', 'churned_mrr', 'churned_customers')
        ) as billing_metric_rows
),

mart_rows as (
    select
        'fct_product_daily has rows exactly when there are product events' as rule_broken,
        mart_counts.product_daily_rows as offending_rows,
        coverage.has_product_events as expects_rows
    from mart_counts cross join coverage
    union all
    select
        'fct_user_engagement has rows exactly when there are product events' as rule_broken,
        mart_counts.user_engagement_rows as offending_rows,
        coverage.has_product_events as expects_rows
    from mart_counts cross join coverage
    union all
    select
        'fct_signup_cohort_activity has rows exactly when there are product events'
            as rule_broken,
        mart_counts.cohort_activity_rows as offending_rows,
        coverage.has_product_events as expects_rows
    from mart_counts cross join coverage
    union all
    select
        'fct_funnel_monthly has visitors rows exactly when there are sessions' as rule_broken,
        mart_counts.funnel_visitor_rows as offending_rows,
        coverage.has_sessions as expects_rows
    from mart_counts cross join coverage
    union all
    select
        'fct_funnel_monthly has scanned-and-later rows exactly when there are scans'
            as rule_broken,
        mart_counts.funnel_scan_stage_rows as offending_rows,
        coverage.has_scans as expects_rows
    from mart_counts cross join coverage
    union all
    select
        'fct_funnel_monthly has converted-and-later rows exactly when there are scans and billing'
            as rule_broken,
        mart_counts.funnel_paid_stage_rows as offending_rows,
        coverage.has_scans * coverage.has_billing as expects_rows
    from mart_counts cross join coverage
    union all
    select
        'fct_mrr_daily has rows exactly when there is billing' as rule_broken,
        mart_counts.mrr_daily_rows as offending_rows,
        coverage.has_billing as expects_rows
    from mart_counts cross join coverage
    union all
    select
        'fct_mrr_monthly has rows exactly when there is billing' as rule_broken,
        mart_counts.mrr_monthly_rows as offending_rows,
        coverage.has_billing as expects_rows
    from mart_counts cross join coverage
    union all
    select
        'fct_mrr_monthly_by_dimension has rows exactly when there is billing' as rule_broken,
        mart_counts.mrr_by_dimension_rows as offending_rows,
        coverage.has_billing as expects_rows
    from mart_counts cross join coverage
    union all
    select
        'fct_plan_performance has rows exactly when there is billing' as rule_broken,
        mart_counts.plan_performance_rows as offending_rows,
        coverage.has_billing as expects_rows
    from mart_counts cross join coverage
    union all
    select
        'fct_metric_daily has billing metric rows exactly when there is billing' as rule_broken,
        mart_counts.billing_metric_rows as offending_rows,
        coverage.has_billing as expects_rows
    from mart_counts cross join coverage
),

mart_row_failures as (
    -- rows where none may be (offending_rows > 0), or none where they must be (-1)
    select
        rule_broken,
        case when expects_rows = 1 then -1 else offending_rows end as offending_rows
    from mart_rows
    where (expects_rows = 1) != (offending_rows > 0)
),

null_failures as (
    select
        'fct_channel_performance.spend_usd NULL exactly without marketing spend' as rule_broken,
        count(*) as offending_rows
    from {{ ref('fct_channel_performance') }} as performance
    cross join coverage
    where (performance.spend_usd is null) != (coverage.has_marketing_spend = 0)
    union all
    select
        'fct_channel_performance.visitors NULL exactly without sessions' as rule_broken,
        count(*) as offending_rows
    from {{ ref('fct_channel_performance') }} as performance
    cross join coverage
    where (performance.visitors is null) != (coverage.has_sessions = 0)
    union all
    select
        'fct_funnel_by_channel.visitors NULL exactly without sessions' as rule_broken,
        count(*) as offending_rows
    from {{ ref('fct_funnel_by_channel') }} as funnel
    cross join coverage
    where (funnel.visitors is null) != (coverage.has_sessions = 0)
    union all
    select
        'fct_funnel_by_channel scanned to retained NULL exactly without scans, converted and'
        || ' retained also without billing' as rule_broken,
        count(*) as offending_rows
    from {{ ref('fct_funnel_by_channel') }} as funnel
    cross join coverage
    where
        (funnel.scanned is null) != (coverage.has_scans = 0)
        or (funnel.activated is null) != (coverage.has_scans = 0)
        or (funnel.converted is null) != (coverage.has_scans * coverage.has_billing = 0)
        or (funnel.retained is null) != (coverage.has_scans * coverage.has_billing = 0)
    union all
    select
        'fct_customer_health.engagement_trend NULL exactly without scans' as rule_broken,
        count(*) as offending_rows
    from {{ ref('fct_customer_health') }} as health
    cross join coverage
    where (health.engagement_trend is null) != (coverage.has_scans = 0)
    union all
    select
        'fct_channel_performance customers and ending_mrr NULL exactly without billing'
            as rule_broken,
        count(*) as offending_rows
    from {{ ref('fct_channel_performance') }} as performance
    cross join coverage
    where
        (performance.new_customers is null) != (coverage.has_billing = 0)
        or (performance.paying_customers is null) != (coverage.has_billing = 0)
        or (performance.churned_customers is null) != (coverage.has_billing = 0)
        or (performance.ending_mrr is null) != (coverage.has_billing = 0)
    union all
    select
        'fct_product_daily paying/free splits NULL exactly without billing' as rule_broken,
        count(*) as offending_rows
    from {{ ref('fct_product_daily') }} as product
    cross join coverage
    where
        (product.dau_paying is null) != (coverage.has_billing = 0)
        or (product.dau_free is null) != (coverage.has_billing = 0)
        or (product.wau_paying is null) != (coverage.has_billing = 0)
        or (product.mau_free is null) != (coverage.has_billing = 0)
        or (product.completed_scans_paying is null) != (coverage.has_billing = 0)
        or (product.completed_scans_free is null) != (coverage.has_billing = 0)
    union all
    select
        'fct_user_engagement.paying_days_active NULL exactly without billing' as rule_broken,
        count(*) as offending_rows
    from {{ ref('fct_user_engagement') }} as engagement
    cross join coverage
    where (engagement.paying_days_active is null) != (coverage.has_billing = 0)
    union all
    select
        'dim_customers paying figures and status NULL exactly without billing' as rule_broken,
        count(*) as offending_rows
    from {{ ref('dim_customers') }} as customers
    cross join coverage
    where
        (customers.current_mrr is null) != (coverage.has_billing = 0)
        or (customers.is_paying is null) != (coverage.has_billing = 0)
        or (customers.customer_status is null) != (coverage.has_billing = 0)
        or (customers.subscription_count is null) != (coverage.has_billing = 0)
        or (customers.lifetime_revenue_usd is null) != (coverage.has_billing = 0)
        or (customers.refunded_usd is null) != (coverage.has_billing = 0)
),

final as (
    select * from mart_row_failures
    union all
    select * from null_failures
    where offending_rows > 0
)

select * from final
