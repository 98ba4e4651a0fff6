-- One row per month and plan, plus one row per month for all plans (plan = 'all'): renewal
-- payments whose first attempt failed and what became of them, the MRR waiting on a retry at
-- the month end, and the MRR lost when no retry collected.
--
-- Each question has its own clock:
--   failed / recovered / lost / open invoices   the month of the invoice's first attempt
--                                               (issued_at), counted by what became of it by
--                                               the end of the data (status)
--   mrr_at_risk                                 the end of month_end_date: subscriptions
--                                               counting in MRR then with a failed first
--                                               attempt on or before that day not yet collected
--   involuntary churned customers, mrr_lost     the month the customer churned (movement churn,
--                                               end_reason payment_failed: the rule of
--                                               fct_churn_by_reason, plan of that subscription)
-- recovery_rate = recovered / (recovered + lost): invoices still open are not decided yet and
-- count in neither, so a young month's rate rests on fewer invoices (open_invoices says how many).

with

months as (
    select
        month,
        month_end_date,
        is_complete_month
    from {{ ref('int_data_months') }}
),

subscriptions as (
    select
        subscription_id,
        user_id,
        plan,
        mrr_usd,
        started_date,
        ended_at,
        ended_date,
        end_reason
    from {{ ref('int_subscription_periods') }}
),

plans as (
    select distinct plan
    from subscriptions
),

failed_invoices as (
    -- renewal invoices whose first charge was declined
    select
        invoices.subscription_id,
        subscriptions.plan,
        subscriptions.mrr_usd,
        subscriptions.started_date,
        subscriptions.ended_date,
        invoices.status,
        invoices.is_recovered,
        cast({{ dbt.date_trunc('month', 'invoices.issued_at') }} as date) as failed_month,
        cast(invoices.issued_at as date) as failed_date,
        cast(invoices.paid_at as date) as paid_date
    from {{ ref('stg_invoices') }} as invoices
    inner join subscriptions
        on invoices.subscription_id = subscriptions.subscription_id
    where invoices.first_attempt_failed
),

failed_months as (
    select
        failed_month as month,
        plan,
        count(*) as failed_invoices,
        sum(case when is_recovered then 1 else 0 end) as recovered_invoices,
        sum(case when status = 'failed' then 1 else 0 end) as lost_invoices,
        sum(case when status = 'open' then 1 else 0 end) as open_invoices
    from failed_invoices
    group by failed_month, plan
),

unresolved_at_month_end as (
    -- a subscription counts in MRR at the end of day D when started_date <= D < ended_date;
    -- its failed invoice is unresolved then unless paid by the end of D
    select distinct
        months.month,
        failed_invoices.subscription_id,
        failed_invoices.plan,
        failed_invoices.mrr_usd
    from months
    inner join failed_invoices
        on
            months.month_end_date >= failed_invoices.failed_date
            and months.month_end_date >= failed_invoices.started_date
            and (
                failed_invoices.ended_date is null
                or months.month_end_date < failed_invoices.ended_date
            )
            and (
                failed_invoices.paid_date is null
                or months.month_end_date < failed_invoices.paid_date
            )
),

at_risk_months as (
    select
        month,
        plan,
        sum(mrr_usd) as mrr_at_risk
    from unresolved_at_month_end
    group by month, plan
),

lost_months as (
    -- involuntary churn by the plan that ended (int_customer_churns decides why a customer churned)
    select
        month,
        plan,
        count(*) as involuntary_churned_customers,
        -sum(mrr_change) as mrr_lost
    from {{ ref('int_customer_churns') }}
    where churn_type = 'involuntary'
    group by month, plan
),

plan_months as (
    select
        months.month,
        plans.plan,
        coalesce(failed_months.failed_invoices, 0) as failed_invoices,
        coalesce(failed_months.recovered_invoices, 0) as recovered_invoices,
        coalesce(failed_months.lost_invoices, 0) as lost_invoices,
        coalesce(failed_months.open_invoices, 0) as open_invoices,
        coalesce(at_risk_months.mrr_at_risk, 0) as mrr_at_risk,
        coalesce(lost_months.involuntary_churned_customers, 0) as involuntary_churned_customers,
        coalesce(lost_months.mrr_lost, 0) as mrr_lost
    from months
    cross join plans
    left join failed_months
        on months.month = failed_months.month and plans.plan = failed_months.plan
    left join at_risk_months
        on months.month = at_risk_months.month and plans.plan = at_risk_months.plan
    left join lost_months
        on months.month = lost_months.month and plans.plan = lost_months.plan
),

all_plan_months as (
    select
        month,
        'all' as plan,
        sum(failed_invoices) as failed_invoices,
        sum(recovered_invoices) as recovered_invoices,
        sum(lost_invoices) as lost_invoices,
        sum(open_invoices) as open_invoices,
        sum(mrr_at_risk) as mrr_at_risk,
        sum(involuntary_churned_customers) as involuntary_churned_customers,
        sum(mrr_lost) as mrr_lost
    from plan_months
    group by month
),

all_rows as (
    select * from plan_months
    union all
    select * from all_plan_months
),

final as (
    select
        cast(all_rows.month as date) as month,
        cast(months.month_end_date as date) as month_end_date,
        months.is_complete_month,
        cast(all_rows.plan as {{ dbt.type_string() }}) as plan,
        cast(all_rows.failed_invoices as bigint) as failed_invoices,
        cast(all_rows.recovered_invoices as bigint) as recovered_invoices,
        cast(all_rows.lost_invoices as bigint) as lost_invoices,
        cast(all_rows.open_invoices as bigint) as open_invoices,
        {{ core_ratio(
            'all_rows.recovered_invoices',
            'all_rows.recovered_invoices + all_rows.lost_invoices'
        ) }} as recovery_rate,
        cast(all_rows.mrr_at_risk as decimal(18, 6)) as mrr_at_risk,
        cast(all_rows.involuntary_churned_customers as bigint) as involuntary_churned_customers,
        cast(all_rows.mrr_lost as decimal(18, 6)) as mrr_lost
    from all_rows
    inner join months
        on all_rows.month = months.month
)

select * from final
