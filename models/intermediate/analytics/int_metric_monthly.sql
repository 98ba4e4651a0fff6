-- The monthly rates of fct_mrr_monthly in long format (month, metric, value, unit), so that
-- fct_alerts checks them against seeds/metric_thresholds.csv like the daily metrics.

with

mrr_monthly as (
    select * from {{ ref('fct_mrr_monthly') }}
),

{% set rates = ['logo_churn_rate', 'gross_mrr_churn_rate', 'net_mrr_churn_rate',
                'net_revenue_retention', 'gross_revenue_retention', 'quick_ratio'] %}

final as (
    {% for rate in rates %}
    select
        cast(month as date) as metric_month,
        '{{ rate }}' as metric,
        cast({{ rate }} as {{ analytics_type_double() }}) as value,
        'ratio' as unit
    from mrr_monthly
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select * from final
