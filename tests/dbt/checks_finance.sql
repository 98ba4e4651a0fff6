-- The finance marts: one row per key, money non-negative where it must be, rates in range.
-- Each table's checks are the `checks` beside its columns in the YAML (macros/table_checks.sql):
-- one query per table, one error naming table, column and rows for everything broken.
{{ table_checks([
    ref('dim_customers'),
    ref('fct_customer_health'),
    ref('fct_invoices'),
    ref('fct_subscriptions'),
    ref('fct_mrr_daily'),
    ref('fct_customer_mrr_monthly'),
    ref('fct_mrr_monthly'),
    ref('fct_mrr_monthly_by_dimension'),
    ref('fct_churn_by_reason'),
    ref('fct_payment_recovery'),
    ref('fct_mrr_forecast'),
    ref('fct_mrr_forecast_backtest')
], folders=['models/marts/finance/']) }}
