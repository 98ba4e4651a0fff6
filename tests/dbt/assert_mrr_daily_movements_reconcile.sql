-- Each day's end-of-day MRR must be the previous day's MRR plus the day's movements
-- (new + expansion + reactivation + contraction + churned), and paying customers must move
-- by new + reactivated - churned; the first day starts from 0. Returned rows break the chain.

with

daily as (
    select
        *,
        coalesce(lag(mrr) over (order by date_day), 0) as previous_mrr,
        coalesce(lag(paying_customers) over (order by date_day), 0) as previous_paying_customers
    from {{ ref('fct_mrr_daily') }}
),

final as (
    select
        date_day,
        previous_mrr,
        mrr,
        new_mrr,
        expansion_mrr,
        reactivation_mrr,
        contraction_mrr,
        churned_mrr
    from daily
    where
        previous_mrr + new_mrr + expansion_mrr + reactivation_mrr
        + contraction_mrr + churned_mrr != mrr
        or net_new_mrr != mrr - previous_mrr
        or previous_paying_customers + new_customers + reactivated_customers
        - churned_customers != paying_customers
        or arr != mrr * 12
)

select * from final
