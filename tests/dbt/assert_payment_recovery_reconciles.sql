-- fct_payment_recovery, its identities in one test. Each returned row names the check, the
-- month and what breaks:
--   involuntary   the 'all' row's involuntary churned customers and mrr_lost equal
--                 fct_churn_by_reason's involuntary churn (mrr_lost = -churned_mrr) every month
--                 (both read int_customer_churns: this holds the two aggregations together;
--                 lost_ends below ties the lost invoices to the raw subscriptions)
--   plans_add_up  the plans' rows add up to the 'all' row
--   outcomes      recovered + lost + open = failed invoices in every row
--   dense         every month of fct_mrr_monthly has an 'all' row
--   lost_ends     over all months, the lost invoices are exactly the subscriptions that ended
--                 with end_reason 'payment_failed' (each ends at its invoice's last retry), and
--                 each lost invoice's subscription is one of them

{% set text = dbt.type_string() %}

with

recovery as (
    select * from {{ ref('fct_payment_recovery') }}
),

all_plans as (
    select * from recovery
    where plan = 'all'
),

involuntary as (
    select
        month,
        sum(churned_customers) as churned_customers,
        -sum(churned_mrr) as churned_mrr
    from {{ ref('fct_churn_by_reason') }}
    where churn_type = 'involuntary'
    group by month
),

involuntary_check as (
    select
        'involuntary' as check_name,
        coalesce(all_plans.month, involuntary.month) as month,
        cast(all_plans.involuntary_churned_customers as {{ text }}) || ', '
        || cast(all_plans.mrr_lost as {{ text }}) as found,
        cast(involuntary.churned_customers as {{ text }}) || ', '
        || cast(involuntary.churned_mrr as {{ text }}) as expected
    from all_plans
    full outer join involuntary
        on all_plans.month = involuntary.month
    where
        coalesce(all_plans.involuntary_churned_customers, -1)
        != coalesce(involuntary.churned_customers, 0)
        or coalesce(all_plans.mrr_lost, -1) != coalesce(involuntary.churned_mrr, 0)
),

plan_sums as (
    select
        month,
        sum(failed_invoices) as failed_invoices,
        sum(recovered_invoices) as recovered_invoices,
        sum(lost_invoices) as lost_invoices,
        sum(mrr_at_risk) as mrr_at_risk,
        sum(mrr_lost) as mrr_lost
    from recovery
    where plan != 'all'
    group by month
),

plans_add_up as (
    select
        'plans_add_up' as check_name,
        all_plans.month,
        cast(plan_sums.failed_invoices as {{ text }}) || ', '
        || cast(plan_sums.recovered_invoices as {{ text }}) || ', '
        || cast(plan_sums.lost_invoices as {{ text }}) || ', '
        || cast(plan_sums.mrr_at_risk as {{ text }}) || ', '
        || cast(plan_sums.mrr_lost as {{ text }}) as found,
        cast(all_plans.failed_invoices as {{ text }}) || ', '
        || cast(all_plans.recovered_invoices as {{ text }}) || ', '
        || cast(all_plans.lost_invoices as {{ text }}) || ', '
        || cast(all_plans.mrr_at_risk as {{ text }}) || ', '
        || cast(all_plans.mrr_lost as {{ text }}) as expected
    from all_plans
    left join plan_sums
        on all_plans.month = plan_sums.month
    where
        coalesce(plan_sums.failed_invoices, 0) != all_plans.failed_invoices
        or coalesce(plan_sums.recovered_invoices, 0) != all_plans.recovered_invoices
        or coalesce(plan_sums.lost_invoices, 0) != all_plans.lost_invoices
        or coalesce(plan_sums.mrr_at_risk, 0) != all_plans.mrr_at_risk
        or coalesce(plan_sums.mrr_lost, 0) != all_plans.mrr_lost
),

outcomes as (
    select
        'outcomes' as check_name,
        month,
        cast(recovered_invoices + lost_invoices + open_invoices as {{ text }}) as found,
        cast(failed_invoices as {{ text }}) || ' (' || plan || ')' as expected
    from recovery
    where recovered_invoices + lost_invoices + open_invoices != failed_invoices
),

dense as (
    select
        'dense' as check_name,
        monthly.month,
        'no all row' as found,
        'an all row' as expected
    from {{ ref('fct_mrr_monthly') }} as monthly
    left join all_plans
        on monthly.month = all_plans.month
    where all_plans.month is null
),

ended_on_failure as (
    select subscription_id
    from {{ ref('stg_subscriptions') }}
    where end_reason = 'payment_failed'
),

lost_invoices as (
    select subscription_id
    from {{ ref('stg_invoices') }}
    where status = 'failed'
),

lost_ends as (
    select
        'lost_ends' as check_name,
        cast(null as date) as month,
        cast((select sum(lost_invoices) from all_plans) as {{ text }}) || ' lost invoices, '
        || cast((select count(*) from lost_invoices) as {{ text }}) || ' failed' as found,
        cast((select count(*) from ended_on_failure) as {{ text }})
        || ' subscriptions ended payment_failed' as expected
    where
        (select sum(lost_invoices) from all_plans) != (select count(*) from ended_on_failure)
        or exists (
            select 1 from lost_invoices
            where
                lost_invoices.subscription_id
                not in (select ended_on_failure.subscription_id from ended_on_failure)
        )
),

final as (
    select * from involuntary_check
    union all
    select * from plans_add_up
    union all
    select * from outcomes
    union all
    select * from dense
    union all
    select * from lost_ends
)

select * from final
