-- Every month's ending_mrr (and paying customer count) must equal fct_mrr_daily on the day
-- that closes the month (month_end_date), exactly. Months without such a day fail too.

with

monthly as (
    select
        month,
        month_end_date,
        ending_mrr,
        paying_customers
    from {{ ref('fct_mrr_monthly') }}
),

daily as (
    select
        date_day,
        mrr,
        paying_customers
    from {{ ref('fct_mrr_daily') }}
),

final as (
    select
        monthly.month,
        monthly.ending_mrr,
        daily.mrr as daily_mrr,
        monthly.paying_customers,
        daily.paying_customers as daily_paying_customers
    from monthly
    left join daily
        on monthly.month_end_date = daily.date_day
    where
        daily.date_day is null
        or monthly.ending_mrr != daily.mrr
        or monthly.paying_customers != daily.paying_customers
)

select * from final
