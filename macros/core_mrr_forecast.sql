{#-
    The MRR forecast rule, stated once: fct_mrr_forecast (the forecast from the last complete
    month) and fct_mrr_forecast_backtest (the same forecast from every earlier month, against
    what happened) both call it. A select (usable as a CTE body) with one row per origin month
    and horizon 1..horizon_months, from `monthly`: a relation or CTE with fct_mrr_monthly's
    columns. Only its complete months are read (never a partial one, as origin or in a
    window); they are consecutive, as only the data's first and last month can be partial.

    From an origin month o, with the window = the window_months complete months up to and
    including o (an origin without that many is not forecast):
      inflow        new + reactivation MRR, a least-squares line through the window's months
                    (mean + slope × position), extended k months past o: the generated business
                    grows, and a flat average under-forecast it (measured in the README)
      rates         expansion, contraction and churn as shares of starting MRR, pooled over the
                    window (sum of the movement / sum of starting MRR), so a month that started
                    at 0 MRR does not make a rate undefined
      projection    m_0 = ending MRR of o; m_h = m_(h-1) × (1 + expansion + contraction + churn
                    rate) + inflow_h; written in closed form below:
                    m_h = m_0 (1 + r)^h + sum over k = 1..h of inflow_k (1 + r)^(h - k)

        window inflow 100,110,..,150 (mean 125, slope 10)    inflow_1 = 125 + 10 × 3.5 = 160
        net rate r = -0.5, m_0 = 1000                         m_1 = 500 + 160 = 660
                                                              m_2 = 330 + 170 = 500
-#}
{% macro core_mrr_forecast(monthly, window_months=6, horizon_months=6) %}
    {%- set centre = (window_months - 1) / 2 -%}
    {%- set position_sum_of_squares = window_months * (window_months ** 2 - 1) / 12 -%}
    with

    numbered_months as (
        select
            month,
            ending_mrr,
            cast(starting_mrr as double) as starting_mrr,
            cast(new_mrr + reactivation_mrr as double) as inflow_mrr,
            cast(expansion_mrr as double) as expansion_mrr,
            cast(contraction_mrr as double) as contraction_mrr,
            cast(churned_mrr as double) as churned_mrr,
            row_number() over (order by month) as month_number
        from {{ monthly }}
        where is_complete_month
    ),

    origins as (
        -- each window's inflow line and pooled rates; position - centre is x minus mean x
        select
            origin.month as origin_month,
            cast(origin.ending_mrr as double) as origin_mrr,
            avg(history.inflow_mrr) as mean_inflow_mrr,
            sum(
                (history.month_number - origin.month_number + {{ centre }})
                * history.inflow_mrr
            ) / {{ position_sum_of_squares }} as inflow_slope_mrr,
            {{ core_ratio('sum(history.expansion_mrr)', 'sum(history.starting_mrr)') }}
                as expansion_rate,
            {{ core_ratio('sum(history.contraction_mrr)', 'sum(history.starting_mrr)') }}
                as contraction_rate,
            {{ core_ratio('sum(history.churned_mrr)', 'sum(history.starting_mrr)') }}
                as churn_rate
        from numbered_months as origin
        inner join numbered_months as history
            on
                history.month_number
                between origin.month_number - {{ window_months - 1 }} and origin.month_number
        group by origin.month, origin.ending_mrr
        having count(*) = {{ window_months }}
    ),

    horizons as (
        {% for horizon in range(1, horizon_months + 1) -%}
            select {{ horizon }} as horizon_months
            {% if not loop.last %}union all{% endif %}
        {% endfor %}
    ),

    inflows as (
        -- the inflow line extended k months past the origin
        select
            origins.origin_month,
            horizons.horizon_months as months_ahead,
            origins.mean_inflow_mrr
            + origins.inflow_slope_mrr * (horizons.horizon_months + {{ centre }}) as inflow_mrr,
            1 + origins.expansion_rate + origins.contraction_rate + origins.churn_rate
                as retained_share
        from origins
        cross join horizons
    ),

    compounded_inflows as (
        -- each month's inflow, retained for the months left until the horizon
        select
            inflows.origin_month,
            horizons.horizon_months,
            sum(
                inflows.inflow_mrr
                * power(inflows.retained_share, horizons.horizon_months - inflows.months_ahead)
            ) as compounded_inflow_mrr,
            max(
                case
                    when inflows.months_ahead = horizons.horizon_months then inflows.inflow_mrr
                end
            ) as inflow_mrr
        from inflows
        inner join horizons
            on inflows.months_ahead <= horizons.horizon_months
        group by inflows.origin_month, horizons.horizon_months
    ),

    projection as (
        select
            origins.origin_month,
            compounded_inflows.horizon_months,
            cast(
                {{ dbt.dateadd('month', 'compounded_inflows.horizon_months', 'origins.origin_month') }}
                as date
            ) as forecast_month,
            origins.origin_mrr,
            origins.expansion_rate,
            origins.contraction_rate,
            origins.churn_rate,
            compounded_inflows.inflow_mrr,
            origins.origin_mrr
            * power(
                1 + origins.expansion_rate + origins.contraction_rate + origins.churn_rate,
                compounded_inflows.horizon_months
            )
            + compounded_inflows.compounded_inflow_mrr as forecast_mrr
        from origins
        inner join compounded_inflows
            on origins.origin_month = compounded_inflows.origin_month
    )

    select * from projection
{% endmacro %}
