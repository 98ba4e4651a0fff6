{#-
    Metrics in long format, one row per period and metric, from CTEs that hold one column per
    metric: for each (metric, unit, cte) of `metrics`, a branch
        select <period_column>, '<metric>' as metric, <metric> as value, '<unit>' as unit
        from <cte>
    joined by `union all`. The CTE's column carries the metric's name. Used by fct_metric_daily
    (the daily metrics) and fct_alerts (the monthly rates of fct_mrr_monthly), so each list of
    metrics is written once, where it is used.
-#}
{% macro analytics_metrics_long(metrics, period_column) %}
    {%- for metric, unit, cte in metrics %}
    select
        {{ period_column }},
        '{{ metric }}' as metric,
        {{ metric }} as value,
        '{{ unit }}' as unit
    from {{ cte }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{% endmacro %}
