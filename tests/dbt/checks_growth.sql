-- The growth marts: one row per key, counts non-negative, rates in range.
-- Each table's checks are the `checks` beside its columns in the YAML (macros/table_checks.sql):
-- one query per table, one error naming table, column and rows for everything broken.
{{ table_checks([
    ref('fct_cohort_retention'),
    ref('fct_signup_cohort_activity'),
    ref('fct_funnel_monthly'),
    ref('fct_funnel_by_channel'),
    ref('fct_channel_performance'),
    ref('fct_plan_performance'),
    ref('fct_plan_changes')
], folders=['models/marts/growth/']) }}
