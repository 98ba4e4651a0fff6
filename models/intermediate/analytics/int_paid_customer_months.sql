{{ config(materialized='table') }}

-- One row per customer per month of int_customer_mrr_months, with what the growth marts
-- slice by: the customer's cohort month (the month of their `new` movement, i.e. the first
-- month they were paying at month end), acquisition channel, segment, the plan and billing
-- cycle they were on at this and the previous month end, and the plan they started on.

with

customer_months as (
    select
        user_id,
        cast(month as date) as mrr_month,
        cast(month_end_date as date) as month_end_date,
        mrr,
        previous_mrr,
        mrr_change,
        movement
    from {{ ref('int_customer_mrr_months') }}
),

customers as (
    select
        user_id,
        acquisition_channel,
        segment
    from {{ ref('stg_users') }}
),

subscriptions as (
    select
        user_id,
        plan,
        billing_cycle,
        started_at,
        ended_at
    from {{ ref('stg_subscriptions') }}
),

month_end_plans as (
    -- the subscription active at the end of month_end_date, the instant the core marts
    -- measure month-end MRR at (subscriptions of a customer never overlap)
    select
        customer_months.user_id,
        customer_months.mrr_month,
        min(subscriptions.plan) as plan,
        min(subscriptions.billing_cycle) as billing_cycle
    from customer_months
    inner join subscriptions
        on
            customer_months.user_id = subscriptions.user_id
            and subscriptions.started_at
            < {{ dbt.dateadd('day', 1, 'customer_months.month_end_date') }}
            and (
                subscriptions.ended_at is null
                or subscriptions.ended_at
                >= {{ dbt.dateadd('day', 1, 'customer_months.month_end_date') }}
            )
    where customer_months.mrr > 0
    group by customer_months.user_id, customer_months.mrr_month
),

cohorts as (
    select
        user_id,
        min(mrr_month) as cohort_month
    from customer_months
    where movement = 'new'
    group by user_id
),

with_plans as (
    select
        customer_months.user_id,
        customer_months.mrr_month,
        cohorts.cohort_month,
        customers.acquisition_channel,
        customers.segment,
        month_end_plans.plan,
        month_end_plans.billing_cycle,
        customer_months.mrr,
        customer_months.previous_mrr,
        customer_months.mrr_change,
        customer_months.movement
    from customer_months
    left join cohorts
        on customer_months.user_id = cohorts.user_id
    left join customers
        on customer_months.user_id = customers.user_id
    left join month_end_plans
        on
            customer_months.user_id = month_end_plans.user_id
            and customer_months.mrr_month = month_end_plans.mrr_month
),

starting_plans as (
    select
        user_id,
        plan as starting_plan
    from with_plans
    where mrr_month = cohort_month
),

final as (
    select
        with_plans.user_id,
        with_plans.mrr_month,
        with_plans.cohort_month,
        {{ dbt.datediff('with_plans.cohort_month', 'with_plans.mrr_month', 'month') }}
            as months_since_start,
        with_plans.acquisition_channel,
        with_plans.segment,
        starting_plans.starting_plan,
        with_plans.plan,
        with_plans.billing_cycle,
        lag(with_plans.plan) over (
            partition by with_plans.user_id order by with_plans.mrr_month
        ) as previous_plan,
        lag(with_plans.billing_cycle) over (
            partition by with_plans.user_id order by with_plans.mrr_month
        ) as previous_billing_cycle,
        with_plans.mrr,
        with_plans.previous_mrr,
        with_plans.mrr_change,
        with_plans.movement,
        with_plans.mrr > 0 as is_paying,
        with_plans.previous_mrr > 0 as was_paying
    from with_plans
    left join starting_plans
        on with_plans.user_id = starting_plans.user_id
)

select * from final
