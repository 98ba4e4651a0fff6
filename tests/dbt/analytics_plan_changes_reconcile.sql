-- Every month, plan and billing cycle, fct_plan_changes counts as many upgrades and
-- downgrades into and out of the plan as fct_plan_performance's upgrades_in/out and
-- downgrades_in/out: fct_plan_changes types a change by plan_rank, fct_plan_performance by the
-- raw end_reason, so this also checks that every upgraded (downgraded) subscription moved to
-- a higher (lower) plan. A same-plan cycle switch would be counted by end_reason in
-- fct_plan_performance and as cycle_switch here, so it shows up as a disagreement. Returns
-- the rows that disagree.

with

plan_months as (
    select
        performance_month,
        plan,
        billing_cycle,
        upgrades_in,
        upgrades_out,
        downgrades_in,
        downgrades_out
    from {{ ref('fct_plan_performance') }}
),

changes as (
    select * from {{ ref('fct_plan_changes') }}
),

moves_in as (
    select
        change_month,
        to_plan as plan,
        to_billing_cycle as billing_cycle,
        sum(case when change_type = 'upgrade' then customers else 0 end) as upgrades_in,
        sum(case when change_type = 'downgrade' then customers else 0 end) as downgrades_in
    from changes
    group by change_month, to_plan, to_billing_cycle
),

moves_out as (
    select
        change_month,
        from_plan as plan,
        from_billing_cycle as billing_cycle,
        sum(case when change_type = 'upgrade' then customers else 0 end) as upgrades_out,
        sum(case when change_type = 'downgrade' then customers else 0 end) as downgrades_out
    from changes
    group by change_month, from_plan, from_billing_cycle
),

compared as (
    select
        plan_months.*,
        coalesce(moves_in.upgrades_in, 0) as matrix_upgrades_in,
        coalesce(moves_out.upgrades_out, 0) as matrix_upgrades_out,
        coalesce(moves_in.downgrades_in, 0) as matrix_downgrades_in,
        coalesce(moves_out.downgrades_out, 0) as matrix_downgrades_out
    from plan_months
    left join moves_in
        on
            plan_months.performance_month = moves_in.change_month
            and plan_months.plan = moves_in.plan
            and plan_months.billing_cycle = moves_in.billing_cycle
    left join moves_out
        on
            plan_months.performance_month = moves_out.change_month
            and plan_months.plan = moves_out.plan
            and plan_months.billing_cycle = moves_out.billing_cycle
),

matrix_totals as (
    select sum(customers) as customers from changes
),

plan_totals as (
    select sum(upgrades_in + downgrades_in) as customers from plan_months
)

select compared.*
from compared
cross join matrix_totals
cross join plan_totals
where
    compared.upgrades_in != compared.matrix_upgrades_in
    or compared.upgrades_out != compared.matrix_upgrades_out
    or compared.downgrades_in != compared.matrix_downgrades_in
    or compared.downgrades_out != compared.matrix_downgrades_out
    -- a change in a month or on a plan outside fct_plan_performance would be missed above
    or matrix_totals.customers != plan_totals.customers
