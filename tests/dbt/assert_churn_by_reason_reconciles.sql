-- fct_churn_by_reason, its identities in one test. Each returned row names the check, the
-- month, the reason and what breaks:
--   mapped        every row has an end_reason and a churn_type (voluntary or involuntary): a
--                 churn with no subscription ending in its month, or an end_reason the macro
--                 core_churn_type does not map, fails here
--   dense         every reason has a row in every month of fct_mrr_monthly
--   adds_up       in every month, the reasons' churned_customers and churned_mrr sum to
--                 fct_mrr_monthly's (each churned customer month has exactly one reason)

{% set text = dbt.type_string() %}

with

reasons as (
    select * from {{ ref('fct_churn_by_reason') }}
),

monthly as (
    select * from {{ ref('fct_mrr_monthly') }}
),

mapped as (
    select
        'mapped' as check_name,
        month,
        coalesce(end_reason, 'NULL') as end_reason,
        cast(churn_type as {{ text }}) as found,
        'voluntary or involuntary' as expected
    from reasons
    where
        end_reason is null
        or churn_type is null
        or churn_type not in ('voluntary', 'involuntary')
),

reason_count as (
    select count(distinct end_reason) as reasons
    from reasons
),

month_sums as (
    select
        month,
        count(*) as reason_rows,
        sum(churned_customers) as churned_customers,
        sum(churned_mrr) as churned_mrr
    from reasons
    group by month
),

dense as (
    select
        'dense' as check_name,
        monthly.month,
        'every reason' as end_reason,
        cast(coalesce(month_sums.reason_rows, 0) as {{ text }}) as found,
        cast(reason_count.reasons as {{ text }}) as expected
    from monthly
    cross join reason_count
    left join month_sums
        on monthly.month = month_sums.month
    where coalesce(month_sums.reason_rows, 0) != reason_count.reasons
),

adds_up as (
    select
        'adds_up' as check_name,
        coalesce(monthly.month, month_sums.month) as month,
        'sum of reasons' as end_reason,
        cast(month_sums.churned_customers as {{ text }}) || ', '
        || cast(month_sums.churned_mrr as {{ text }}) as found,
        cast(monthly.churned_customers as {{ text }}) || ', '
        || cast(monthly.churned_mrr as {{ text }}) as expected
    from monthly
    full outer join month_sums
        on monthly.month = month_sums.month
    where
        coalesce(month_sums.churned_customers, 0) != coalesce(monthly.churned_customers, -1)
        or coalesce(month_sums.churned_mrr, 0) != coalesce(monthly.churned_mrr, -1)
),

final as (
    select * from mapped
    union all
    select * from dense
    union all
    select * from adds_up
)

select * from final
