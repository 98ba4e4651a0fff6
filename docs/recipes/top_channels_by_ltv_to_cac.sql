-- Paid channels ranked by LTV:CAC in the last complete month (LTV uses 6-month trailing churn).
select
    performance_month,
    channel,
    spend_usd,
    new_customers,
    cac_usd,
    ltv_usd,
    round(ltv_to_cac, 2) as ltv_to_cac
from fct_channel_performance
where
    is_paid
    and channel != 'all'
    and performance_month = (select max(month) from fct_mrr_monthly where is_complete_month)
order by ltv_to_cac desc nulls last;
