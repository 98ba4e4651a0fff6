-- The monthly MRR, computed again from the subscription rows without the models' route (no
-- change days, no running sums, no movement labels in the sums), must equal the finance marts
-- exactly (DECIMAL):
--   * a customer's MRR at a month end is the sum of mrr_usd of their subscriptions active at
--     the last instant of month_end_date (started_at < month_end_date + 1 day <= ended_at, or
--     ended_at NULL); their rows run from the first month end at which they pay to the last
--     month, zero months included; previous_mrr is the month before's (0 before that);
--   * every fct_customer_mrr_monthly row has this mrr, previous_mrr, mrr_change and the
--     movement these two values imply, and no customer month is missing or extra;
--   * every fct_mrr_monthly bridge figure and customer count follows from the values alone:
--     new = the first paying month, reactivation = 0 before and > 0 now in a later month,
--     churn = > 0 before and 0 now, expansion / contraction = up / down between two positive
--     values; months without customer rows are all zero.
-- Returned rows are the customer months (problem = the user_id) or months that disagree.

with

month_ends as (
    select
        month,
        month_end_date
    from {{ ref('int_data_months') }}
),

subscriptions as (
    select
        user_id,
        mrr_usd,
        started_at,
        ended_at
    from {{ ref('stg_subscriptions') }}
),

customers as (
    select distinct user_id from subscriptions
),

active_mrr as (
    -- the MRR of the subscriptions active at each month end, per customer (month ends are few,
    -- so this join is small; joined per customer it made DuckDB plan a nested loop over all
    -- customer months: 127 s at 1M users)
    select
        subscriptions.user_id,
        month_ends.month,
        sum(subscriptions.mrr_usd) as mrr
    from subscriptions
    inner join month_ends
        on
            subscriptions.started_at
            < {{ dbt.dateadd('day', 1, 'month_ends.month_end_date') }}
            and (
                subscriptions.ended_at is null
                or subscriptions.ended_at
                >= {{ dbt.dateadd('day', 1, 'month_ends.month_end_date') }}
            )
    group by subscriptions.user_id, month_ends.month
),

month_end_mrr as (
    -- every customer at every month end, 0 when none of their subscriptions is active then
    select
        customers.user_id,
        month_ends.month,
        coalesce(active_mrr.mrr, 0) as mrr
    from customers
    cross join month_ends
    left join active_mrr
        on
            customers.user_id = active_mrr.user_id
            and month_ends.month = active_mrr.month
),

with_previous as (
    select
        user_id,
        month,
        mrr,
        coalesce(lag(mrr) over (partition by user_id order by month), 0) as previous_mrr,
        min(case when mrr > 0 then month end) over (partition by user_id) as first_paid_month
    from month_end_mrr
),

expected_customer_months as (
    select
        user_id,
        month,
        mrr,
        previous_mrr,
        month = first_paid_month as is_first_paid_month,
        case
            when month = first_paid_month then 'new'
            when previous_mrr = 0 and mrr > 0 then 'reactivation'
            when previous_mrr > 0 and mrr = 0 then 'churn'
            when mrr > previous_mrr then 'expansion'
            when mrr < previous_mrr then 'contraction'
            else 'unchanged'
        end as movement
    from with_previous
    where month >= first_paid_month
),

customer_mismatches as (
    select
        cast(coalesce(expected.user_id, actual.user_id) as {{ dbt.type_string() }}) as problem,
        coalesce(expected.month, actual.month) as month
    from expected_customer_months as expected
    full outer join {{ ref('fct_customer_mrr_monthly') }} as actual
        on
            expected.user_id = actual.user_id
            and expected.month = actual.month
    where
        expected.user_id is null
        or actual.user_id is null
        or actual.mrr != expected.mrr
        or actual.previous_mrr != expected.previous_mrr
        or actual.mrr_change != expected.mrr - expected.previous_mrr
        or actual.movement != expected.movement
),

expected_months as (
    select
        month,
        sum(previous_mrr) as starting_mrr,
        sum(case when is_first_paid_month then mrr else 0 end) as new_mrr,
        sum(
            case when previous_mrr > 0 and mrr > previous_mrr then mrr - previous_mrr else 0 end
        ) as expansion_mrr,
        sum(
            case
                when not is_first_paid_month and previous_mrr = 0 and mrr > 0 then mrr else 0
            end
        ) as reactivation_mrr,
        sum(
            case when mrr > 0 and mrr < previous_mrr then mrr - previous_mrr else 0 end
        ) as contraction_mrr,
        -sum(case when previous_mrr > 0 and mrr = 0 then previous_mrr else 0 end)
            as churned_mrr,
        sum(mrr) as ending_mrr,
        count(case when previous_mrr > 0 then 1 end) as starting_paying_customers,
        count(case when mrr > 0 then 1 end) as paying_customers,
        count(case when is_first_paid_month then 1 end) as new_customers,
        count(case when previous_mrr > 0 and mrr = 0 then 1 end) as churned_customers,
        count(
            case when not is_first_paid_month and previous_mrr = 0 and mrr > 0 then 1 end
        ) as reactivated_customers
    from expected_customer_months
    group by month
),

month_mismatches as (
    select
        'month' as problem,
        monthly.month
    from {{ ref('fct_mrr_monthly') }} as monthly
    left join expected_months as expected
        on monthly.month = expected.month
    where
        monthly.starting_mrr != coalesce(expected.starting_mrr, 0)
        or monthly.new_mrr != coalesce(expected.new_mrr, 0)
        or monthly.expansion_mrr != coalesce(expected.expansion_mrr, 0)
        or monthly.reactivation_mrr != coalesce(expected.reactivation_mrr, 0)
        or monthly.contraction_mrr != coalesce(expected.contraction_mrr, 0)
        or monthly.churned_mrr != coalesce(expected.churned_mrr, 0)
        or monthly.ending_mrr != coalesce(expected.ending_mrr, 0)
        or monthly.starting_paying_customers != coalesce(expected.starting_paying_customers, 0)
        or monthly.paying_customers != coalesce(expected.paying_customers, 0)
        or monthly.new_customers != coalesce(expected.new_customers, 0)
        or monthly.churned_customers != coalesce(expected.churned_customers, 0)
        or monthly.reactivated_customers != coalesce(expected.reactivated_customers, 0)
),

final as (
    select * from customer_mismatches
    union all
    select * from month_mismatches
)

select * from final
