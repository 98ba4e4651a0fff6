-- The monthly MRR bridge must close exactly (DECIMAL, so to the cent and beyond):
--   starting_mrr + new + expansion + reactivation + contraction + churned = ending_mrr
--   starting_mrr = the previous month's ending_mrr (0 for the first month of the data)
--   net_new_mrr = ending_mrr - starting_mrr, arr = 12 x ending_mrr
-- Any returned row is a month where the bridge does not close.

with

monthly as (
    select
        *,
        coalesce(lag(ending_mrr) over (order by month), 0) as previous_ending_mrr
    from {{ ref('fct_mrr_monthly') }}
),

final as (
    select
        month,
        starting_mrr,
        previous_ending_mrr,
        ending_mrr,
        starting_mrr + new_mrr + expansion_mrr + reactivation_mrr
        + contraction_mrr + churned_mrr as bridged_ending_mrr
    from monthly
    where
        starting_mrr + new_mrr + expansion_mrr + reactivation_mrr
        + contraction_mrr + churned_mrr != ending_mrr
        or starting_mrr != previous_ending_mrr
        or net_new_mrr != ending_mrr - starting_mrr
        or arr != ending_mrr * 12
)

select * from final
