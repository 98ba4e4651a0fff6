-- The intermediate building blocks: one row per key, columns present and in range.
-- Each table's checks are the `checks` beside its columns in the YAML (macros/table_checks.sql):
-- one query per table, one error naming table, column and rows for everything broken.
{{ table_checks([
    ref('int_data_span'),
    ref('int_data_days'),
    ref('int_data_months'),
    ref('int_subscription_periods'),
    ref('int_customer_mrr_change_days'),
    ref('int_customer_mrr_months'),
    ref('int_customer_churns'),
    ref('int_user_activity_days'),
    ref('int_user_activity_totals'),
    ref('int_visitors'),
    ref('int_funnel_users'),
    ref('int_paid_customer_months')
], folders=['models/intermediate/']) }}
