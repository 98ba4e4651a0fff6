{{ config(materialized='table') }}

-- One row per customer per month from the first month they pay at month end through the
-- last month of the data, zero-MRR months after a churn included: month-end MRR, the previous
-- month end's MRR and the movement between them (macro core_mrr_movement). The finance mart
-- fct_customer_mrr_monthly publishes it; fct_mrr_monthly and int_paid_customer_months sum and
-- slice it, so the monthly rule is computed in this one place.

with

change_days as (
    select
        user_id,
        change_date,
        mrr
    from {{ ref('int_customer_mrr_change_days') }}
),

months as (
    select
        month,
        month_end_date
    from {{ ref('int_data_months') }}
),

mrr_intervals as (
    -- each change day's MRR holds until the customer's next change day
    select
        user_id,
        change_date as valid_from_date,
        lead(change_date) over (partition by user_id order by change_date) as valid_to_date,
        mrr
    from change_days
),

month_ends as (
    select
        mrr_intervals.user_id,
        months.month,
        months.month_end_date,
        mrr_intervals.mrr
    from months
    inner join mrr_intervals
        on
            months.month_end_date >= mrr_intervals.valid_from_date
            and (
                mrr_intervals.valid_to_date is null
                or months.month_end_date < mrr_intervals.valid_to_date
            )
),

first_paid_months as (
    select
        user_id,
        min(month) as first_paid_month
    from month_ends
    where mrr > 0
    group by user_id
),

paid_months as (
    select
        month_ends.user_id,
        month_ends.month,
        month_ends.month_end_date,
        month_ends.mrr,
        coalesce(
            lag(month_ends.mrr) over (
                partition by month_ends.user_id order by month_ends.month
            ),
            0
        ) as previous_mrr,
        month_ends.month > first_paid_months.first_paid_month as has_paid_before
    from month_ends
    inner join first_paid_months
        on
            month_ends.user_id = first_paid_months.user_id
            and month_ends.month >= first_paid_months.first_paid_month
),

final as (
    select
        user_id,
        cast(month as date) as month,
        cast(month_end_date as date) as month_end_date,
        cast(mrr as decimal(18, 6)) as mrr,
        cast(previous_mrr as decimal(18, 6)) as previous_mrr,
        cast(mrr - previous_mrr as decimal(18, 6)) as mrr_change,
        {{ core_mrr_movement('previous_mrr', 'mrr', 'has_paid_before') }} as movement
    from paid_months
)

select * from final
