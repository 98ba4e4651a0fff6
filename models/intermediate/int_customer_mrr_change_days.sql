{{ config(materialized='table') }}

-- One row per customer per day on which one of their subscriptions started or ended, up to
-- the last day of the data: MRR at the end of the previous day, at the end of this day, and
-- the daily movement between them. MRR only changes on these days, so fct_mrr_daily and
-- int_customer_mrr_months are built from these rows (running sums of the deltas) instead of
-- a customer x day grid.
--
-- A subscription counts at the end of day d when started_at < d + 1 and (ended_at is NULL or
-- ended_at >= d + 1), i.e. it is active at the day's last instant (started_at <= t < ended_at).
-- So its MRR is added on the calendar day of started_at and removed on the day of ended_at.

with

subscriptions as (
    select
        user_id,
        mrr_usd,
        started_at,
        ended_at
    from {{ ref('stg_subscriptions') }}
),

data_span as (
    select * from {{ ref('int_data_span') }}
),

mrr_deltas as (
    select
        user_id,
        cast(started_at as date) as change_date,
        mrr_usd as mrr_delta
    from subscriptions
    union all
    select
        user_id,
        cast(ended_at as date) as change_date,
        -mrr_usd as mrr_delta
    from subscriptions
    where ended_at is not null
),

daily_deltas as (
    select
        mrr_deltas.user_id,
        mrr_deltas.change_date,
        sum(mrr_deltas.mrr_delta) as mrr_change
    from mrr_deltas
    cross join data_span
    where mrr_deltas.change_date <= data_span.data_end_date
    group by mrr_deltas.user_id, mrr_deltas.change_date
),

running as (
    select
        user_id,
        change_date,
        mrr_change,
        sum(mrr_change) over (
            partition by user_id
            order by change_date
            rows between unbounded preceding and current row
        ) as mrr
    from daily_deltas
),

with_history as (
    select
        user_id,
        change_date,
        mrr_change,
        mrr,
        mrr - mrr_change as previous_mrr,
        coalesce(
            max(case when mrr > 0 then 1 else 0 end) over (
                partition by user_id
                order by change_date
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) = 1 as has_paid_before
    from running
),

final as (
    select
        user_id,
        change_date,
        cast(previous_mrr as decimal(18, 6)) as previous_mrr,
        cast(mrr as decimal(18, 6)) as mrr,
        cast(mrr_change as decimal(18, 6)) as mrr_change,
        has_paid_before,
        {{ core_mrr_movement('previous_mrr', 'mrr', 'has_paid_before') }} as movement
    from with_history
)

select * from final
