{{ config(**incremental_by_date_config('performance_month')) }}
{{ config(**incremental_data_end_config('int_data_months', 'month_end_date')) }}

-- One row per (month, plan, billing cycle) of the plan catalogue: customers and MRR on the
-- plan at month end, its share of all MRR, churn out of the plan, and plan changes in and out.
-- A customer churns out of a plan when they were on it at the previous month end and pay
-- nothing at this month end. Upgrades and downgrades are the subscription changes of the
-- month (a row ending with end_reason upgraded/downgraded and the row that replaces it at
-- the same instant), counted on the old plan (out) and the new plan (in).
--
-- Incremental by month (macros/incremental_by_date.sql with performance_month as the key): a
-- nightly run rebuilds the months from the one holding the lookback start,
-- incremental_lookback_days before the last day of the data the table was built from
-- (macros/incremental_kept_data_end.sql): mid-month the current month alone, as the customer
-- months and subscription changes of earlier months do not change; every month when the
-- plans seed changed.

with

rebuilt_months as (
    -- the first month this run writes (every month on a full build, and every month when
    -- the plans seed changed: each month has a row per plan and billing cycle, ranked by it)
    select {{ incremental_kept_rebuild_month(
        'performance_month',
        incremental_rows_differ(
            'select distinct plan, billing_cycle, plan_rank from ' ~ this,
            'select plan, billing_cycle, plan_rank from ' ~ ref('plans'),
        ),
    ) }} as rebuild_from
),

months as (
    select cast(month as date) as performance_month from {{ ref('int_data_months') }}
    where
        month >= (select rebuilt_months.rebuild_from from rebuilt_months)
        -- no billing data (dim_data_coverage): no rows, not plans with 0 customers
        and {{ core_data_area_present('billing') }}
),

plans as (
    select
        plan,
        plan_rank,
        billing_cycle
    from {{ ref('plans') }}
),

customer_months as (
    select * from {{ ref('int_paid_customer_months') }}
    where mrr_month >= (select rebuilt_months.rebuild_from from rebuilt_months)
),

subscriptions as (
    select
        subscription_id,
        user_id,
        plan,
        billing_cycle,
        started_at,
        ended_at,
        end_reason
    from {{ ref('stg_subscriptions') }}
    -- the rows of the changes of the months rebuilt: one ending, the other starting in them
    where
        started_at >= cast((select rebuilt_months.rebuild_from from rebuilt_months) as timestamp)
        or ended_at >= cast((select rebuilt_months.rebuild_from from rebuilt_months) as timestamp)
),

on_plan as (
    select
        mrr_month as performance_month,
        plan,
        billing_cycle,
        count(*) as customers,
        sum(mrr) as mrr
    from customer_months
    where is_paying
    group by mrr_month, plan, billing_cycle
),

previous_on_plan as (
    select
        mrr_month as performance_month,
        previous_plan as plan,
        previous_billing_cycle as billing_cycle,
        count(*) as previous_customers,
        sum(case when movement = 'churn' then 1 else 0 end) as churned_customers,
        sum(case when movement = 'churn' then previous_mrr else 0 end) as churned_mrr
    from customer_months
    where was_paying
    group by mrr_month, previous_plan, previous_billing_cycle
),

plan_changes as (
    select
        cast({{ dbt.date_trunc('month', 'old_rows.ended_at') }} as date) as performance_month,
        old_rows.end_reason as change_type,
        old_rows.plan as from_plan,
        old_rows.billing_cycle as from_billing_cycle,
        new_rows.plan as to_plan,
        new_rows.billing_cycle as to_billing_cycle
    from subscriptions as old_rows
    inner join subscriptions as new_rows
        on
            old_rows.user_id = new_rows.user_id
            and old_rows.ended_at = new_rows.started_at
            and old_rows.subscription_id != new_rows.subscription_id
    where
        old_rows.end_reason in ('upgraded', 'downgraded')
        and old_rows.ended_at
        >= cast((select rebuilt_months.rebuild_from from rebuilt_months) as timestamp)
),

changes_out as (
    select
        performance_month,
        from_plan as plan,
        from_billing_cycle as billing_cycle,
        sum(case when change_type = 'upgraded' then 1 else 0 end) as upgrades_out,
        sum(case when change_type = 'downgraded' then 1 else 0 end) as downgrades_out
    from plan_changes
    group by performance_month, from_plan, from_billing_cycle
),

changes_in as (
    select
        performance_month,
        to_plan as plan,
        to_billing_cycle as billing_cycle,
        sum(case when change_type = 'upgraded' then 1 else 0 end) as upgrades_in,
        sum(case when change_type = 'downgraded' then 1 else 0 end) as downgrades_in
    from plan_changes
    group by performance_month, to_plan, to_billing_cycle
),

plan_months as (
    select
        months.performance_month,
        plans.plan,
        plans.billing_cycle,
        plans.plan_rank,
        coalesce(on_plan.customers, 0) as customers,
        coalesce(on_plan.mrr, 0) as mrr,
        coalesce(previous_on_plan.previous_customers, 0) as previous_customers,
        coalesce(previous_on_plan.churned_customers, 0) as churned_customers,
        coalesce(previous_on_plan.churned_mrr, 0) as churned_mrr,
        coalesce(changes_in.upgrades_in, 0) as upgrades_in,
        coalesce(changes_out.upgrades_out, 0) as upgrades_out,
        coalesce(changes_in.downgrades_in, 0) as downgrades_in,
        coalesce(changes_out.downgrades_out, 0) as downgrades_out
    from months
    cross join plans
    left join on_plan
        on
            months.performance_month = on_plan.performance_month
            and plans.plan = on_plan.plan
            and plans.billing_cycle = on_plan.billing_cycle
    left join previous_on_plan
        on
            months.performance_month = previous_on_plan.performance_month
            and plans.plan = previous_on_plan.plan
            and plans.billing_cycle = previous_on_plan.billing_cycle
    left join changes_in
        on
            months.performance_month = changes_in.performance_month
            and plans.plan = changes_in.plan
            and plans.billing_cycle = changes_in.billing_cycle
    left join changes_out
        on
            months.performance_month = changes_out.performance_month
            and plans.plan = changes_out.plan
            and plans.billing_cycle = changes_out.billing_cycle
),

final as (
    select
        performance_month,
        plan,
        billing_cycle,
        cast(plan_rank as integer) as plan_rank,
        cast(customers as bigint) as customers,
        cast(mrr as decimal(18, 6)) as mrr,
        cast(mrr as {{ analytics_type_double() }})
        / nullif(sum(mrr) over (partition by performance_month), 0) as mrr_share,
        cast(previous_customers as bigint) as previous_customers,
        cast(churned_customers as bigint) as churned_customers,
        cast(churned_mrr as decimal(18, 6)) as churned_mrr,
        cast(churned_customers as {{ analytics_type_double() }})
        / nullif(previous_customers, 0) as logo_churn_rate,
        cast(upgrades_in as bigint) as upgrades_in,
        cast(upgrades_out as bigint) as upgrades_out,
        cast(downgrades_in as bigint) as downgrades_in,
        cast(downgrades_out as bigint) as downgrades_out
    from plan_months
)

select * from final
