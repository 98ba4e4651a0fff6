{{ config(**incremental_by_date_config('performance_month')) }}
{{ config(**incremental_data_end_config('int_data_months', 'month_end_date')) }}

-- One row per (month, acquisition channel), plus a blended row per month (channel = 'all'):
-- spend, traffic, signups, new customers and the unit economics built on them.
-- cac = spend / new_customers (NULL without new customers; organic channels spend nothing, so
-- their CAC is 0). arpu = the channel's month-end MRR / its paying customers. ltv = arpu /
-- the average of the channel's monthly logo churn rates over the trailing 6 months (this
-- month and the 5 before, as ChartMogul computes it); NULL while that average is 0 or
-- unknown, because a customer base that never churns has no finite lifetime.
-- Spend (and with it CAC, LTV:CAC and payback) is NULL on every row when the raw data holds no
-- marketing spend, visitors when it holds no sessions (dim_data_coverage): unknown, not 0.
-- Customers and MRR (and every figure built on them) are NULL when it holds no billing data.
--
-- Incremental by month (macros/incremental_by_date.sql with performance_month as the key): a
-- nightly run rebuilds the months from the one holding the lookback start,
-- incremental_lookback_days before the last day of the data the table was built from
-- (macros/incremental_kept_data_end.sql): mid-month the current month alone, as the spend,
-- visitors, signups and customer months of earlier months do not change (every month when
-- the channels seed changed). The trailing churn rate of a rebuilt month reads the 5 months
-- before it from the stored rows.

with

rebuilt_months as (
    -- the first month this run writes (every month on a full build), and the first month of
    -- its trailing window
    select
        rebuild_from,
        cast({{ dbt.dateadd('month', -5, 'rebuild_from') }} as date) as window_from
    from (
        -- every month when the channels seed changed: each month has a row per channel
        select {{ incremental_kept_rebuild_month(
            'performance_month',
            incremental_rows_differ(
                'select distinct channel, is_paid from ' ~ this ~ " where channel != 'all'",
                'select channel, is_paid from ' ~ ref('channels'),
            ),
        ) }} as rebuild_from
    ) as first_month
),

months as (
    select cast(month as date) as performance_month from {{ ref('int_data_months') }}
    where month >= (select rebuilt_months.rebuild_from from rebuilt_months)
),

channels as (
    select
        channel,
        is_paid
    from {{ ref('channels') }}
),

spend as (
    select
        cast({{ dbt.date_trunc('month', 'spend_date') }} as date) as performance_month,
        channel,
        sum(spend_usd) as spend_usd
    from {{ ref('stg_marketing_spend') }}
    where spend_date >= (select rebuilt_months.rebuild_from from rebuilt_months)
    group by {{ dbt.date_trunc('month', 'spend_date') }}, channel
),

visitors as (
    select
        first_visit_month as performance_month,
        channel,
        count(*) as visitors
    from {{ ref('int_visitors') }}
    where first_visit_month >= (select rebuilt_months.rebuild_from from rebuilt_months)
    group by first_visit_month, channel
),

signups as (
    select
        cast({{ dbt.date_trunc('month', 'signed_up_at') }} as date) as performance_month,
        acquisition_channel as channel,
        count(*) as signups
    from {{ ref('stg_users') }}
    where
        signed_up_at
        >= cast((select rebuilt_months.rebuild_from from rebuilt_months) as timestamp)
    group by {{ dbt.date_trunc('month', 'signed_up_at') }}, acquisition_channel
),

customers as (
    select
        mrr_month as performance_month,
        acquisition_channel as channel,
        sum(case when movement = 'new' then 1 else 0 end) as new_customers,
        sum(case when is_paying then 1 else 0 end) as paying_customers,
        sum(case when was_paying then 1 else 0 end) as previous_paying_customers,
        sum(case when movement = 'churn' then 1 else 0 end) as churned_customers,
        sum(mrr) as ending_mrr
    from {{ ref('int_paid_customer_months') }}
    where mrr_month >= (select rebuilt_months.rebuild_from from rebuilt_months)
    group by mrr_month, acquisition_channel
),

channel_months as (
    select
        months.performance_month,
        channels.channel,
        channels.is_paid,
        case
            when {{ core_data_area_present('marketing_spend') }}
                then coalesce(spend.spend_usd, 0)
        end as spend_usd,
        case
            when {{ core_data_area_present('sessions') }}
                then coalesce(visitors.visitors, 0)
        end as visitors,
        coalesce(signups.signups, 0) as signups,
        -- customers and MRR are NULL without billing data, and the unit economics with them
        case when {{ core_data_area_present('billing') }} then coalesce(customers.new_customers, 0) end as new_customers,
        case when {{ core_data_area_present('billing') }} then coalesce(customers.paying_customers, 0) end as paying_customers,
        case
            when {{ core_data_area_present('billing') }}
                then coalesce(customers.previous_paying_customers, 0)
        end as previous_paying_customers,
        case when {{ core_data_area_present('billing') }} then coalesce(customers.churned_customers, 0) end as churned_customers,
        case when {{ core_data_area_present('billing') }} then coalesce(customers.ending_mrr, 0) end as ending_mrr
    from months
    cross join channels
    left join spend
        on
            months.performance_month = spend.performance_month
            and channels.channel = spend.channel
    left join visitors
        on
            months.performance_month = visitors.performance_month
            and channels.channel = visitors.channel
    left join signups
        on
            months.performance_month = signups.performance_month
            and channels.channel = signups.channel
    left join customers
        on
            months.performance_month = customers.performance_month
            and channels.channel = customers.channel
),

blended_months as (
    select
        performance_month,
        'all' as channel,
        cast(null as boolean) as is_paid,
        sum(spend_usd) as spend_usd,
        sum(visitors) as visitors,
        sum(signups) as signups,
        sum(new_customers) as new_customers,
        sum(paying_customers) as paying_customers,
        sum(previous_paying_customers) as previous_paying_customers,
        sum(churned_customers) as churned_customers,
        sum(ending_mrr) as ending_mrr
    from channel_months
    group by performance_month
),

all_rows as (
    select * from channel_months
    union all
    select * from blended_months
),

monthly_rates as (
    select
        *,
        -- ratios of money are computed in double precision on every engine (Spark would
        -- otherwise round decimal quotients to 6 places before the next division)
        cast(ending_mrr as {{ analytics_type_double() }}) / nullif(paying_customers, 0) as arpu,
        cast(churned_customers as {{ analytics_type_double() }})
        / nullif(previous_paying_customers, 0) as logo_churn_rate
    from all_rows
),

churn_rates as (
    select
        performance_month,
        channel,
        logo_churn_rate
    from monthly_rates
    {% if is_incremental() %}

        union all

        -- the months before the rebuilt ones in their trailing windows
        select
            performance_month,
            channel,
            logo_churn_rate
        from {{ this }}
        where
            performance_month >= (select rebuilt_months.window_from from rebuilt_months)
            and performance_month < (select rebuilt_months.rebuild_from from rebuilt_months)
    {% endif %}
),

trailing_churn_rates as (
    select
        performance_month,
        channel,
        avg(logo_churn_rate) over (
            partition by channel
            order by performance_month
            rows between 5 preceding and current row
        ) as trailing_6m_logo_churn_rate
    from churn_rates
),

trailing_churn as (
    select
        monthly_rates.*,
        trailing_churn_rates.trailing_6m_logo_churn_rate
    from monthly_rates
    inner join trailing_churn_rates
        on
            monthly_rates.performance_month = trailing_churn_rates.performance_month
            and monthly_rates.channel = trailing_churn_rates.channel
),

economics as (
    select
        *,
        case
            when new_customers > 0
                then cast(spend_usd as {{ analytics_type_double() }}) / new_customers
        end as cac,
        case
            when trailing_6m_logo_churn_rate > 0
                then arpu / trailing_6m_logo_churn_rate
        end as ltv
    from trailing_churn
),

final as (
    select
        performance_month,
        channel,
        is_paid,
        cast(spend_usd as decimal(18, 2)) as spend_usd,
        cast(visitors as bigint) as visitors,
        cast(signups as bigint) as signups,
        cast(new_customers as bigint) as new_customers,
        cast(paying_customers as bigint) as paying_customers,
        cast(churned_customers as bigint) as churned_customers,
        cast(ending_mrr as decimal(18, 6)) as ending_mrr,
        cast(cac as decimal(18, 6)) as cac_usd,
        cast(arpu as decimal(18, 6)) as arpu_usd,
        logo_churn_rate,
        trailing_6m_logo_churn_rate,
        cast(ltv as decimal(18, 6)) as ltv_usd,
        case when cac > 0 then cast(ltv / cac as {{ analytics_type_double() }}) end as ltv_to_cac,
        case
            when arpu > 0 then cast(cac / arpu as {{ analytics_type_double() }})
        end as cac_payback_months
    from economics
)

select * from final
