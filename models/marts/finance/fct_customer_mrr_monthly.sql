-- One row per customer per month from the first month they pay at month end through the
-- last month of the data, zero-MRR months after a churn included: month-end MRR, the previous
-- month end's MRR and the movement between them. Published from int_customer_mrr_months,
-- where the rule lives (the growth models read the same rows from there).

with

customer_months as (
    select * from {{ ref('int_customer_mrr_months') }}
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
