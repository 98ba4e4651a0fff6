-- Customers who churned in the last complete month of the data: who they were and the MRR lost.
select
    churns.month,
    churns.user_id,
    customers.acquisition_channel,
    customers.segment,
    customers.first_plan,
    round(churns.previous_mrr, 2) as lost_mrr
from fct_customer_mrr_monthly as churns
inner join dim_customers as customers on churns.user_id = customers.user_id
where
    churns.movement = 'churn'
    and churns.month = (select max(month) from fct_mrr_monthly where is_complete_month)
order by lost_mrr desc, churns.user_id;
