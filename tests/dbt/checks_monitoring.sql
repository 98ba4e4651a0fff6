-- The monitoring marts: one row per key, severities and statuses from their lists.
-- Each table's checks are the `checks` beside its columns in the YAML (macros/table_checks.sql):
-- one query per table, one error naming table, column and rows for everything broken.
{{ table_checks([
    ref('fct_metric_daily'),
    ref('fct_metric_anomalies'),
    ref('fct_alerts'),
    ref('fct_metric_targets'),
    ref('dim_data_coverage')
], folders=['models/marts/monitoring/']) }}
