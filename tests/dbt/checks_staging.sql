-- The staging models: keys unique and present, enums and money as the raw contract says.
-- Each table's checks are the `checks` beside its columns in the YAML (macros/table_checks.sql):
-- one query per table, one error naming table, column and rows for everything broken.
{{ table_checks([
    ref('stg_users'),
    ref('stg_subscriptions'),
    ref('stg_invoices'),
    ref('stg_scans'),
    ref('stg_sessions'),
    ref('stg_marketing_spend')
], folders=['models/staging/']) }}
