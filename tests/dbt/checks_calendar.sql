-- The calendar: one row per period and per day of the time spine.
-- Each table's checks are the `checks` beside its columns in the YAML (macros/table_checks.sql):
-- one query per table, one error naming table, column and rows for everything broken.
{{ table_checks([
    ref('dim_periods'),
    ref('metricflow_time_spine')
], folders=['models/marts/calendar/', 'models/semantic/']) }}
