-- Every month, customers and MRR summed over the plan catalogue equal fct_mrr_monthly's
-- paying_customers and ending_mrr (to the cent), and churn out of the plans adds up to its
-- churned_customers: every paying customer is on exactly one plan at month end. Returns the
-- months that disagree.

with

plan_totals as (
    select
        performance_month as month,
        sum(customers) as customers,
        sum(mrr) as mrr,
        sum(churned_customers) as churned_customers,
        sum(upgrades_in) as upgrades_in,
        sum(upgrades_out) as upgrades_out,
        sum(downgrades_in) as downgrades_in,
        sum(downgrades_out) as downgrades_out
    from {{ ref('fct_plan_performance') }}
    group by performance_month
),

core_months as (
    select
        cast(month as date) as month,
        paying_customers,
        ending_mrr,
        churned_customers
    from {{ ref('fct_mrr_monthly') }}
)

select
    core_months.*,
    plan_totals.customers,
    plan_totals.mrr,
    plan_totals.churned_customers as plan_churned_customers
from core_months
left join plan_totals
    on core_months.month = plan_totals.month
where
    plan_totals.customers is null
    or plan_totals.customers != core_months.paying_customers
    or abs(plan_totals.mrr - core_months.ending_mrr) > 0.005
    or plan_totals.churned_customers != core_months.churned_customers
    or plan_totals.upgrades_in != plan_totals.upgrades_out
    or plan_totals.downgrades_in != plan_totals.downgrades_out
