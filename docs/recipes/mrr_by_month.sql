-- MRR by month, as a bridge: starting + new + expansion + reactivation + contraction + churned
-- = ending (contraction and churned are negative). US dollars, rounded to the cent.
select
    month,
    is_complete_month,
    round(starting_mrr, 2) as starting_mrr,
    round(new_mrr, 2) as new_mrr,
    round(expansion_mrr, 2) as expansion_mrr,
    round(reactivation_mrr, 2) as reactivation_mrr,
    round(contraction_mrr, 2) as contraction_mrr,
    round(churned_mrr, 2) as churned_mrr,
    round(ending_mrr, 2) as ending_mrr,
    paying_customers
from fct_mrr_monthly
order by month;
