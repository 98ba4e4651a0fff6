-- The product marts: one row per key, counts and durations non-negative, rates in range.
-- Each table's checks are the `checks` beside its columns in the YAML (macros/table_checks.sql):
-- one query per table, one error naming table, column and rows for everything broken.
-- references: the tables outside this list that a relationships check points to.
{{ table_checks([
    ref('fct_product_daily'),
    ref('fct_user_engagement'),
    ref('fct_scans_by_dimension'),
    ref('fct_scans'),
    ref('fct_sessions')
], folders=['models/marts/product/'], references=[ref('dim_customers')]) }}
