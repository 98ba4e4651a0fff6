-- In the long-format marts, the slices of every dimension add up to the `all` row: each
-- customer or user has exactly one channel, segment, starting plan and device. Returns the
-- (table, dimension, period) combinations that do not.

with

cohort_slices as (
    select
        'fct_cohort_retention' as mart,
        dimension,
        cohort_month as period_month,
        months_since_start as period_index,
        sum(retained_customers) as slice_total
    from {{ ref('fct_cohort_retention') }}
    group by dimension, cohort_month, months_since_start
),

activity_slices as (
    select
        'fct_signup_cohort_activity' as mart,
        dimension,
        signup_month as period_month,
        months_since_signup as period_index,
        sum(active_users) as slice_total
    from {{ ref('fct_signup_cohort_activity') }}
    group by dimension, signup_month, months_since_signup
),

funnel_slices as (
    select
        'fct_funnel_monthly' as mart,
        dimension,
        funnel_month as period_month,
        stage_order as period_index,
        sum(users) as slice_total
    from {{ ref('fct_funnel_monthly') }}
    where not (dimension = 'segment' and stage = 'visitors')
    group by dimension, funnel_month, stage_order
),

slices as (
    select * from cohort_slices
    union all
    select * from activity_slices
    union all
    select * from funnel_slices
),

totals as (
    select * from slices
    where dimension = 'all'
)

select
    slices.mart,
    slices.dimension,
    slices.period_month,
    slices.period_index,
    slices.slice_total,
    totals.slice_total as all_total
from slices
inner join totals
    on
        slices.mart = totals.mart
        and slices.period_month = totals.period_month
        and slices.period_index = totals.period_index
where slices.slice_total != totals.slice_total
