{{ config(**incremental_by_date_config('mrr_month')) }}

-- One row per (cohort month, dimension, dimension value, months since start): how many of a
-- paid cohort's customers were still paying at each later month end and how much MRR they
-- brought. Long format: dimension is 'all', 'acquisition_channel', 'segment' or
-- 'starting_plan'. Month 0 is the cohort month itself.
--
-- Incremental by month (macros/incremental_by_date.sql with mrr_month as the key): a nightly
-- run rebuilds the rows of the months from the one holding the lookback start, three days
-- before the first day of the newest month in the table: the current month and the one before.
-- A row of an earlier month counts customer months that do not change; its cohort's size is
-- that of the cohort month, earlier still.

with

customer_months as (
    select
        cohort_month,
        months_since_start,
        mrr_month,
        acquisition_channel,
        segment,
        starting_plan,
        case when is_paying then 1 else 0 end as is_paying,
        mrr
    from {{ ref('int_paid_customer_months') }}
    where
        cohort_month is not null
        and mrr_month >= {{ incremental_kept_rebuild_month('mrr_month') }}
),

cohort_starts as (
    -- every cohort's customer months of month 0 (a customer's cohort month is their first
    -- paying month end, so every row of a cohort above has one)
    select
        cohort_month,
        acquisition_channel,
        segment,
        starting_plan,
        mrr as starting_mrr
    from {{ ref('int_paid_customer_months') }}
    where cohort_month is not null and months_since_start = 0
),

cohort_sizes as (
    {{ analytics_dimension_rollup(
        'cohort_starts',
        ['cohort_month'],
        ['acquisition_channel', 'segment', 'starting_plan'],
        {
            'cohort_customers': 'count(*)',
            'cohort_starting_mrr': 'sum(starting_mrr)',
        }
    ) }}
),

cohort_months as (
    {{ analytics_dimension_rollup(
        'customer_months',
        ['cohort_month', 'months_since_start', 'mrr_month'],
        ['acquisition_channel', 'segment', 'starting_plan'],
        {
            'retained_customers': 'sum(is_paying)',
            'cohort_mrr': 'sum(mrr)',
        }
    ) }}
),

final as (
    select
        cohort_months.cohort_month,
        cohort_months.dimension,
        cohort_months.dimension_value,
        cast(cohort_months.months_since_start as integer) as months_since_start,
        cohort_months.mrr_month,
        cast(cohort_sizes.cohort_customers as bigint) as cohort_customers,
        cast(cohort_months.retained_customers as bigint) as retained_customers,
        cast(cohort_months.retained_customers as {{ analytics_type_double() }})
        / nullif(cohort_sizes.cohort_customers, 0) as logo_retention,
        cast(cohort_sizes.cohort_starting_mrr as decimal(18, 6)) as cohort_starting_mrr,
        cast(cohort_months.cohort_mrr as decimal(18, 6)) as cohort_mrr,
        cast(cohort_months.cohort_mrr as {{ analytics_type_double() }})
        / nullif(cohort_sizes.cohort_starting_mrr, 0) as revenue_retention
    from cohort_months
    inner join cohort_sizes
        on
            cohort_months.cohort_month = cohort_sizes.cohort_month
            and cohort_months.dimension = cohort_sizes.dimension
            and cohort_months.dimension_value = cohort_sizes.dimension_value
)

select * from final
