-- One row per complete month and metric with a target in seeds/metric_targets.csv: the
-- month's value, the target, and whether the value is on track (analytics_is_on_track, the
-- one rule). Monthly rates come from fct_mrr_monthly, unit economics from the blended row
-- (channel = 'all') of fct_channel_performance. A month whose value is NULL (no CAC, no
-- previous MRR) is not judged: is_on_track and gap_to_target are NULL, never "off track".
-- Every target metric is built on billing: no rows when the raw data holds no subscriptions or
-- invoices (dim_data_coverage).

{#- Every metric a target can name, with its unit and the CTE holding it as a column. A metric
    added here must be added to the accepted values of metric in seeds/_metric_targets.yml. -#}
{%- set target_metrics = [
    ('logo_churn_rate', 'ratio', 'mrr_monthly'),
    ('gross_mrr_churn_rate', 'ratio', 'mrr_monthly'),
    ('net_revenue_retention', 'ratio', 'mrr_monthly'),
    ('gross_revenue_retention', 'ratio', 'mrr_monthly'),
    ('mrr_growth_rate', 'ratio', 'mrr_monthly'),
    ('quick_ratio', 'multiple', 'mrr_monthly'),
    ('ltv_to_cac', 'multiple', 'unit_economics'),
    ('cac_payback_months', 'months', 'unit_economics'),
] %}

with

targets as (
    select * from {{ ref('metric_targets') }}
),

complete_months as (
    select period_start_date as month
    from {{ ref('dim_periods') }}
    where grain = 'month' and is_complete and {{ core_data_area_present('billing') }}
),

mrr_monthly as (
    select * from {{ ref('fct_mrr_monthly') }}
),

unit_economics as (
    select
        performance_month as month,
        ltv_to_cac,
        cac_payback_months
    from {{ ref('fct_channel_performance') }}
    where channel = 'all'
),

metric_values as (
    {{ analytics_metrics_long(target_metrics, 'month') }}
),

judged as (
    select
        complete_months.month,
        targets.metric,
        cast(metric_values.value as {{ analytics_type_double() }}) as actual_value,
        cast(targets.target_value as {{ analytics_type_double() }}) as target_value,
        targets.comparator,
        metric_values.unit,
        targets.label as target_label
    from complete_months
    cross join targets
    inner join metric_values
        on
            complete_months.month = metric_values.month
            and targets.metric = metric_values.metric
),

final as (
    select
        month,
        metric,
        actual_value,
        target_value,
        comparator,
        unit,
        target_label,
        {{ analytics_is_on_track('actual_value', 'comparator', 'target_value') }} as is_on_track,
        {{ analytics_gap_to_target('actual_value', 'comparator', 'target_value') }}
            as gap_to_target
    from judged
)

select * from final
