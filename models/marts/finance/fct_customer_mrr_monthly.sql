{{ config(**incremental_by_date_config('month')) }}
{{ config(row_key='user_id') }}
{{ config(**incremental_data_end_config('int_customer_mrr_months', 'month_end_date')) }}

-- One row per customer per month from the first month they pay at month end through the
-- last month of the data, zero-MRR months after a churn included: month-end MRR, the previous
-- month end's MRR and the movement between them. Published from int_customer_mrr_months,
-- where the rule lives (the growth models read the same rows from there).
-- Incremental by month as that model is: a nightly run copies the months it rebuilds.

with

customer_months as (
    select * from {{ ref('int_customer_mrr_months') }}
    where month >= {{ incremental_kept_rebuild_month('month') }}
),

final as (
    select
        user_id,
        month,
        month_end_date,
        mrr,
        previous_mrr,
        mrr_change,
        movement
    from customer_months
)

select * from final
