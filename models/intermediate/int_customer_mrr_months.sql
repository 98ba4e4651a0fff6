{{ config(**incremental_by_date_config('month')) }}
{{ config(row_key='user_id') }}
{{ config(**incremental_data_end_config('int_data_months', 'month_end_date')) }}

-- One row per customer per month from the first month they pay at month end through the
-- last month of the data, zero-MRR months after a churn included: month-end MRR, the previous
-- month end's MRR and the movement between them (macro core_mrr_movement). The finance mart
-- fct_customer_mrr_monthly publishes it; fct_mrr_monthly and int_paid_customer_months sum and
-- slice it, so the monthly rule is computed in this one place.
--
-- Incremental by month (macros/incremental_by_date.sql with month as the key): a nightly run
-- rebuilds the months from the one holding the lookback start, incremental_lookback_days before
-- the last day of the data the table was built from (macros/incremental_kept_data_end.sql):
-- mid-month the current month alone. A change day before the lookback start does not change,
-- so neither do the month ends before it. The month before the rebuilt ones is read again for
-- the previous month end's MRR, and the stored rows before it give the first month a customer
-- paid at month end. Of the rebuilt months it replaces only the customers whose row changed
-- (row_key, macros/incremental_replace_changed.sql).

with

rebuilt_months as (
    -- the first month this run writes (every month on a full build), and the month before
    select
        rebuild_from,
        cast({{ dbt.dateadd('month', -1, 'rebuild_from') }} as date) as read_from
    from (
        select {{ incremental_kept_rebuild_month('month') }} as rebuild_from
    ) as first_month
),

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
    where month >= (select rebuilt_months.read_from from rebuilt_months)
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

paid_month_starts as (
    select
        user_id,
        min(month) as first_paid_month
    from month_ends
    where mrr > 0
    group by user_id
    {% if is_incremental() %}

        union all

        -- the customers paying at a month end before the months read: their rows start at the
        -- first of those
        select
            user_id,
            min(month) as first_paid_month
        from {{ this }}
        where month < (select rebuilt_months.read_from from rebuilt_months)
        group by user_id
    {% endif %}
),

first_paid_months as (
    select
        user_id,
        min(first_paid_month) as first_paid_month
    from paid_month_starts
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
    where month >= (select rebuilt_months.rebuild_from from rebuilt_months)
)

select * from final
