-- Cohort heatmap: share of each monthly paid cohort still paying N months later (percent).
-- One row per cohort month, one column per month since the cohort started (0 = 100%).
pivot (
    select
        cohort_month,
        months_since_start,
        round(100 * logo_retention, 1) as retained_pct
    from fct_cohort_retention
    where dimension = 'all' and months_since_start <= 12
)
on months_since_start in (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)
using first(retained_pct)
group by cohort_month
order by cohort_month;
