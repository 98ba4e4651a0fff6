-- Complete months only: the last month of data usually ends before its last day, and a partial
-- month's churn or CAC is not comparable with a whole month's.
select month from fct_mrr_monthly where is_complete_month
