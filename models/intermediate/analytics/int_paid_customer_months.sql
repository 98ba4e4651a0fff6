{{ config(**incremental_by_date_config('mrr_month')) }}
{{ config(row_key='user_id') }}
{{ config(**incremental_data_end_config('int_customer_mrr_months', 'month_end_date')) }}

-- One row per customer per month of int_customer_mrr_months, with what the growth marts
-- slice by: the customer's cohort month (the month of their `new` movement, i.e. the first
-- month they were paying at month end), acquisition channel, segment, the plan and billing
-- cycle they were on at this and the previous month end, and the plan they started on.
--
-- Incremental by month (macros/incremental_by_date.sql with mrr_month as the key): a nightly
-- run re-selects the months from the one holding the lookback start, incremental_lookback_days
-- before the last day of the data the table was built from (kept beside it:
-- macros/incremental_kept_data_end.sql): mid-month the current month alone, in a month's first
-- days the one before too. The month before those is read again for the plan at the previous
-- month end. Of the re-selected months it replaces only the customers whose row changed
-- (row_key, macros/incremental_replace_changed.sql): mid-month most rows of the current month
-- are the same as the night before, as a row holds no date that moves with the end of the
-- data. The cohort month comes from all of int_customer_mrr_months; a
-- customer's starting plan from their stored row of their cohort month when that month is not
-- read again.

with

rebuilt_months as (
    -- the first month this run writes (every month on a full build), and the month before
    select
        rebuild_from,
        cast({{ dbt.dateadd('month', -1, 'rebuild_from') }} as date) as read_from
    from (
        select
            {{ incremental_kept_rebuild_month('mrr_month') }} as rebuild_from
    ) as first_month
),

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

read_months as (
    -- the months this run writes, and the month before them
    select * from customer_months
    where mrr_month >= (select rebuilt_months.read_from from rebuilt_months)
),

month_end_plans as (
    -- the subscription active at the end of month_end_date, the instant the core marts
    -- measure month-end MRR at (subscriptions of a customer never overlap)
    select
        read_months.user_id,
        read_months.mrr_month,
        min(subscriptions.plan) as plan,
        min(subscriptions.billing_cycle) as billing_cycle
    from read_months
    inner join subscriptions
        on
            read_months.user_id = subscriptions.user_id
            and subscriptions.started_at
            < {{ dbt.dateadd('day', 1, 'read_months.month_end_date') }}
            and (
                subscriptions.ended_at is null
                or subscriptions.ended_at
                >= {{ dbt.dateadd('day', 1, 'read_months.month_end_date') }}
            )
    where read_months.mrr > 0
    group by read_months.user_id, read_months.mrr_month
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
        read_months.user_id,
        read_months.mrr_month,
        read_months.month_end_date,
        cohorts.cohort_month,
        customers.acquisition_channel,
        customers.segment,
        month_end_plans.plan,
        month_end_plans.billing_cycle,
        read_months.mrr,
        read_months.previous_mrr,
        read_months.mrr_change,
        read_months.movement
    from read_months
    left join cohorts
        on read_months.user_id = cohorts.user_id
    left join customers
        on read_months.user_id = customers.user_id
    left join month_end_plans
        on
            read_months.user_id = month_end_plans.user_id
            and read_months.mrr_month = month_end_plans.mrr_month
),

starting_plans as (
    select
        user_id,
        plan as starting_plan
    from with_plans
    where mrr_month = cohort_month
    {% if is_incremental() %}

        union all

        -- a cohort month this run does not read: the plan of the stored row of that month
        select
            user_id,
            plan as starting_plan
        from {{ this }}
        where
            mrr_month = cohort_month
            and cohort_month < (select rebuilt_months.read_from from rebuilt_months)
    {% endif %}
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
),

rebuilt as (
    -- the month before the written ones was read for previous_plan only
    select * from final
    where mrr_month >= (select rebuilt_months.rebuild_from from rebuilt_months)
)

select * from rebuilt
