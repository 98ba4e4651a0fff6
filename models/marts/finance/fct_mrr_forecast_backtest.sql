-- The MRR forecast (macros/core_mrr_forecast.sql) made from every complete month with enough
-- history, compared with the ending MRR that month actually reached: one row per origin month
-- and horizon whose forecast month is complete. The forecast mart's interval and its stated
-- error come from these rows.

with

monthly as (
    select * from {{ ref('fct_mrr_monthly') }}
),

complete_months as (
    select * from monthly
    where is_complete_month
),

projections as (
    {{ core_mrr_forecast('monthly') }}
),

final as (
    select
        projections.origin_month,
        cast(projections.horizon_months as integer) as horizon_months,
        projections.forecast_month,
        cast(projections.forecast_mrr as decimal(18, 6)) as forecast_mrr,
        actual.ending_mrr as actual_mrr,
        cast(projections.forecast_mrr - actual.ending_mrr as decimal(18, 6)) as error_mrr,
        abs({{ core_ratio('projections.forecast_mrr - actual.ending_mrr', 'actual.ending_mrr') }})
            as absolute_percentage_error
    from projections
    inner join complete_months as actual
        on projections.forecast_month = actual.month
)

select * from final
