-- The MRR forecast for the months after the last complete month (never from a partial month):
-- one row per horizon, by the rule of macros/core_mrr_forecast.sql, with an error band (± the 80th percentile of past errors per month ahead)
-- from how far the same rule missed in the backtest (fct_mrr_forecast_backtest). No rows when
-- the last complete month lacks the history the rule needs.

with

monthly as (
    select * from {{ ref('fct_mrr_monthly') }}
),

backtest as (
    select * from {{ ref('fct_mrr_forecast_backtest') }}
),

projections as (
    {{ core_mrr_forecast('monthly') }}
),

base_month as (
    -- the last complete month: complete months are consecutive, so the one with the most
    -- history is the latest origin (the rule never starts from a partial month)
    select max(origin_month) as base_month from projections
),

latest_projection as (
    select projections.* from projections
    inner join base_month
        on projections.origin_month = base_month.base_month
),

backtest_by_horizon as (
    select
        horizon_months,
        count(*) as backtest_origins,
        avg(absolute_percentage_error) as backtest_mape
    from backtest
    group by horizon_months
),

interval_width as (
    -- errors grow with the horizon, and the late horizons have few origins: so the interval
    -- pools every backtest forecast as its error per month ahead, takes the 80th percentile,
    -- and widens it linearly with the horizon
    select
        {{ analytics_percentile('absolute_percentage_error / horizon_months', 0.8) }}
            as error_per_month_p80
    from backtest
),

final as (
    select
        latest_projection.origin_month as base_month,
        cast(latest_projection.origin_mrr as decimal(18, 6)) as base_mrr,
        cast(latest_projection.horizon_months as integer) as horizon_months,
        latest_projection.forecast_month,
        cast(latest_projection.inflow_mrr as decimal(18, 6)) as forecast_inflow_mrr,
        latest_projection.expansion_rate,
        latest_projection.contraction_rate,
        latest_projection.churn_rate,
        cast(latest_projection.forecast_mrr as decimal(18, 6)) as forecast_mrr,
        cast(
            greatest(
                latest_projection.forecast_mrr
                * (1 - interval_width.error_per_month_p80 * latest_projection.horizon_months),
                0
            ) as decimal(18, 6)
        ) as forecast_lower_mrr,
        cast(
            latest_projection.forecast_mrr
            * (1 + interval_width.error_per_month_p80 * latest_projection.horizon_months)
            as decimal(18, 6)
        ) as forecast_upper_mrr,
        cast(coalesce(backtest_by_horizon.backtest_origins, 0) as bigint) as backtest_origins,
        backtest_by_horizon.backtest_mape
    from latest_projection
    cross join interval_width
    left join backtest_by_horizon
        on latest_projection.horizon_months = backtest_by_horizon.horizon_months
)

select * from final
