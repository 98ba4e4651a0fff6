-- One row per alert: every anomaly of fct_metric_anomalies, and every breach of a fixed
-- threshold of seeds/metric_thresholds.csv by a daily metric (the values of fct_metric_daily,
-- read from fct_metric_anomalies, which carries every scored day and metric) or a monthly rate
-- of fct_mrr_monthly, each with a sentence a person can act on. An alert is open when it
-- concerns the latest day (daily) or the latest month (monthly) of data.

{%- set monthly_rates = [
    ('logo_churn_rate', 'ratio', 'mrr_monthly'),
    ('gross_mrr_churn_rate', 'ratio', 'mrr_monthly'),
    ('net_mrr_churn_rate', 'ratio', 'mrr_monthly'),
    ('net_revenue_retention', 'ratio', 'mrr_monthly'),
    ('gross_revenue_retention', 'ratio', 'mrr_monthly'),
    ('quick_ratio', 'ratio', 'mrr_monthly'),
] %}

with

scored_days as (
    select * from {{ ref('fct_metric_anomalies') }}
),

mrr_monthly as (
    -- the rates in monthly_rates are DOUBLE columns of the mart's contract
    select
        *,
        month as period_start_date
    from {{ ref('fct_mrr_monthly') }}
),

anomalies as (
    select * from scored_days
    where is_anomaly
),

thresholds as (
    select
        metric,
        grain,
        direction,
        warning_value,
        critical_value
    from {{ ref('metric_thresholds') }}
    where check_type = 'threshold'
),

daily_metrics as (
    select
        metric_date as period_start_date,
        metric,
        value,
        unit
    from scored_days
    where value is not null
),

monthly_rate_values as (
    {{ analytics_metrics_long(monthly_rates, 'period_start_date') }}
),

monthly_metrics as (
    select
        period_start_date,
        metric,
        value,
        unit
    from monthly_rate_values
    where value is not null
),

latest_periods as (
    select
        'daily' as grain,
        max(period_start_date) as latest_period_start_date
    from daily_metrics
    union all
    select
        'monthly' as grain,
        max(period_start_date) as latest_period_start_date
    from monthly_metrics
),

metric_values as (
    select
        'daily' as grain,
        period_start_date,
        metric,
        value,
        unit
    from daily_metrics
    union all
    select
        'monthly' as grain,
        period_start_date,
        metric,
        value,
        unit
    from monthly_metrics
),

threshold_checks as (
    select
        metric_values.grain,
        metric_values.period_start_date,
        metric_values.metric,
        metric_values.value,
        metric_values.unit,
        thresholds.direction,
        case
            when thresholds.direction = 'above' and metric_values.value >= thresholds.critical_value
                then 'critical'
            when thresholds.direction = 'below' and metric_values.value <= thresholds.critical_value
                then 'critical'
            when thresholds.direction = 'above' and metric_values.value >= thresholds.warning_value
                then 'warning'
            when thresholds.direction = 'below' and metric_values.value <= thresholds.warning_value
                then 'warning'
        end as severity,
        thresholds.warning_value,
        thresholds.critical_value
    from metric_values
    inner join thresholds
        on
            metric_values.metric = thresholds.metric
            and metric_values.grain = thresholds.grain
),

threshold_alerts as (
    select
        'threshold' as alert_type,
        grain,
        period_start_date,
        metric,
        value,
        unit,
        cast(null as {{ analytics_type_double() }}) as expected_value,
        case when severity = 'critical' then critical_value else warning_value end
            as threshold_value,
        cast(null as {{ analytics_type_double() }}) as score,
        case when direction = 'above' then 'up' else 'down' end as direction,
        severity
    from threshold_checks
    where severity is not null
),

anomaly_alerts as (
    select
        'anomaly' as alert_type,
        'daily' as grain,
        metric_date as period_start_date,
        metric,
        value,
        unit,
        expected_value,
        cast(null as {{ analytics_type_double() }}) as threshold_value,
        score,
        direction,
        severity
    from anomalies
),

all_alerts as (
    select * from threshold_alerts
    union all
    select * from anomaly_alerts
),

described as (
    select
        all_alerts.*,
        case
            when all_alerts.grain = 'monthly'
                then substr(cast(all_alerts.period_start_date as {{ dbt.type_string() }}), 1, 7)
            else cast(all_alerts.period_start_date as {{ dbt.type_string() }})
        end as period_label,
        {{ analytics_format_metric_value('all_alerts.value', 'all_alerts.unit') }} as value_label,
        {{ analytics_format_metric_value('all_alerts.expected_value', 'all_alerts.unit') }}
            as expected_label,
        {{ analytics_format_metric_value('all_alerts.threshold_value', 'all_alerts.unit') }}
            as threshold_label,
        cast(cast(round(all_alerts.score, 1) as decimal(18, 1)) as {{ dbt.type_string() }})
            as score_label,
        all_alerts.period_start_date = latest_periods.latest_period_start_date as is_open
    from all_alerts
    inner join latest_periods
        on all_alerts.grain = latest_periods.grain
),

final as (
    select
        {{ dbt.hash(dbt.concat(['alert_type', "'|'", 'grain', "'|'", 'metric', "'|'",
            'cast(period_start_date as ' ~ dbt.type_string() ~ ')'])) }} as alert_id,
        alert_type,
        grain,
        period_start_date,
        metric,
        value,
        unit,
        expected_value,
        threshold_value,
        score,
        direction,
        severity,
        is_open,
        case
            when alert_type = 'anomaly'
                then {{ dbt.concat([
                    "upper(substr(severity, 1, 1))", "substr(severity, 2)",
                    "': '", "metric", "' was '", "value_label", "' on '", "period_label",
                    "case when direction = 'up' then ', above' else ', below' end",
                    "' the expected '", "expected_label",
                    "' (anomaly score '", "score_label", "')'"]) }}
            else {{ dbt.concat([
                    "upper(substr(severity, 1, 1))", "substr(severity, 2)",
                    "': '", "metric", "' was '", "value_label",
                    "case when grain = 'monthly' then ' in ' else ' on ' end", "period_label",
                    "case when direction = 'up' then ', at or above' else ', at or below' end",
                    "' the '", "severity", "' threshold of '", "threshold_label"]) }}
        end as message
    from described
)

select * from final
