-- One row per (month, from plan, from billing cycle, to plan, to billing cycle) with the
-- customers who changed plan that way in the month and the MRR they moved. A plan change is a
-- subscription replaced at the same instant by one on another plan or billing cycle (the
-- upgrade and downgrade events fct_plan_performance counts in and out), dated to the month of
-- that instant. The month-end plans of int_paid_customer_months would miss a change in a
-- customer's first month and net out two changes within one month, so they are not used.
-- change_type compares plan_rank (seeds/plans.csv):
--   to rank > from rank            upgrade
--   to rank < from rank            downgrade
--   same rank, other billing cycle cycle_switch (whatever the MRR change: annual billing's
--                                  discount lowers MRR, but the customer keeps the plan)

with

periods as (
    select
        subscription_id,
        user_id,
        subscription_number,
        plan,
        billing_cycle,
        mrr_usd,
        started_at,
        start_reason
    from {{ ref('int_subscription_periods') }}
),

plans as (
    select
        plan,
        billing_cycle,
        plan_rank
    from {{ ref('plans') }}
),

changes as (
    -- the new subscription with the one it replaced
    select
        cast({{ dbt.date_trunc('month', 'new_periods.started_at') }} as date) as change_month,
        old_periods.plan as from_plan,
        old_periods.billing_cycle as from_billing_cycle,
        new_periods.plan as to_plan,
        new_periods.billing_cycle as to_billing_cycle,
        old_periods.mrr_usd as mrr_before,
        new_periods.mrr_usd as mrr_after
    from periods as new_periods
    inner join periods as old_periods
        on
            new_periods.user_id = old_periods.user_id
            and new_periods.subscription_number = old_periods.subscription_number + 1
    where new_periods.start_reason in ('upgrade', 'downgrade')
),

moves as (
    select
        change_month,
        from_plan,
        from_billing_cycle,
        to_plan,
        to_billing_cycle,
        count(*) as customers,
        sum(mrr_before) as mrr_before,
        sum(mrr_after) as mrr_after
    from changes
    group by change_month, from_plan, from_billing_cycle, to_plan, to_billing_cycle
),

final as (
    select
        moves.change_month,
        moves.from_plan,
        moves.from_billing_cycle,
        moves.to_plan,
        moves.to_billing_cycle,
        case
            when to_plans.plan_rank > from_plans.plan_rank then 'upgrade'
            when to_plans.plan_rank < from_plans.plan_rank then 'downgrade'
            else 'cycle_switch'
        end as change_type,
        cast(from_plans.plan_rank as integer) as from_plan_rank,
        cast(to_plans.plan_rank as integer) as to_plan_rank,
        cast(moves.customers as bigint) as customers,
        cast(moves.mrr_before as decimal(18, 6)) as mrr_before,
        cast(moves.mrr_after as decimal(18, 6)) as mrr_after,
        cast(moves.mrr_after - moves.mrr_before as decimal(18, 6)) as mrr_change
    from moves
    inner join plans as from_plans
        on
            moves.from_plan = from_plans.plan
            and moves.from_billing_cycle = from_plans.billing_cycle
    inner join plans as to_plans
        on
            moves.to_plan = to_plans.plan
            and moves.to_billing_cycle = to_plans.billing_cycle
)

select * from final
