-- Paid cohorts reconcile with the MRR marts. In every cohort month, the cohort's customers at
-- months_since_start 0 (all retained by definition) equal that month's new_customers of
-- fct_mrr_monthly; and in every calendar month, retained customers and cohort MRR summed
-- over all cohorts equal paying_customers and ending_mrr (to the cent), because every paying
-- customer belongs to exactly one cohort. Returns the months that disagree.

with

cohorts as (
    select * from {{ ref('fct_cohort_retention') }}
    where dimension = 'all'
),

month_zero as (
    select
        cohort_month as month,
        cohort_customers,
        retained_customers
    from cohorts
    where months_since_start = 0
),

calendar_totals as (
    select
        mrr_month as month,
        sum(retained_customers) as retained_customers,
        sum(cohort_mrr) as cohort_mrr
    from cohorts
    group by mrr_month
),

core_months as (
    select
        cast(month as date) as month,
        new_customers,
        paying_customers,
        ending_mrr
    from {{ ref('fct_mrr_monthly') }}
),

compared as (
    select
        core_months.month,
        core_months.new_customers,
        coalesce(month_zero.cohort_customers, 0) as cohort_customers,
        coalesce(month_zero.retained_customers, 0) as month_zero_retained,
        core_months.paying_customers,
        coalesce(calendar_totals.retained_customers, 0) as retained_customers,
        core_months.ending_mrr,
        coalesce(calendar_totals.cohort_mrr, 0) as cohort_mrr
    from core_months
    left join month_zero
        on core_months.month = month_zero.month
    left join calendar_totals
        on core_months.month = calendar_totals.month
)

select * from compared
where
    month_zero_retained != new_customers
    or cohort_customers != new_customers
    or retained_customers != paying_customers
    or abs(cohort_mrr - ending_mrr) > 0.005
