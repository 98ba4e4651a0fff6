-- Complete months only (dim_periods, the one definition of a complete period): a partial
-- month's churn, CAC or retention is not comparable with a whole month's.
select period_start_date from dim_periods where grain = 'month' and is_complete
