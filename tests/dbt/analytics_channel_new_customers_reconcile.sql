-- Every month, new customers summed over the channels, and the blended `all` row, equal
-- fct_mrr_monthly.new_customers; spend summed over channels equals the blended spend and the
-- raw marketing spend of the month. Returns the months that disagree.

with

channel_rows as (
    select
        performance_month,
        sum(case when channel != 'all' then new_customers else 0 end) as channel_new_customers,
        sum(case when channel = 'all' then new_customers else 0 end) as blended_new_customers,
        sum(case when channel != 'all' then spend_usd else 0 end) as channel_spend_usd,
        sum(case when channel = 'all' then spend_usd else 0 end) as blended_spend_usd
    from {{ ref('fct_channel_performance') }}
    group by performance_month
),

core_months as (
    select
        cast(month as date) as performance_month,
        new_customers
    from {{ ref('fct_mrr_monthly') }}
),

raw_spend as (
    select
        cast({{ dbt.date_trunc('month', 'spend_date') }} as date) as performance_month,
        sum(spend_usd) as spend_usd
    from {{ ref('stg_marketing_spend') }}
    group by {{ dbt.date_trunc('month', 'spend_date') }}
),

compared as (
    select
        core_months.performance_month,
        core_months.new_customers,
        channel_rows.channel_new_customers,
        channel_rows.blended_new_customers,
        channel_rows.channel_spend_usd,
        channel_rows.blended_spend_usd,
        coalesce(raw_spend.spend_usd, 0) as raw_spend_usd
    from core_months
    left join channel_rows
        on core_months.performance_month = channel_rows.performance_month
    left join raw_spend
        on core_months.performance_month = raw_spend.performance_month
)

select * from compared
where
    channel_new_customers is null
    or channel_new_customers != new_customers
    or blended_new_customers != new_customers
    or abs(channel_spend_usd - blended_spend_usd) > 0.005
    or abs(blended_spend_usd - raw_spend_usd) > 0.005
