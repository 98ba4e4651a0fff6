-- dim_periods tiles the data: at every grain (day, week, month) the periods' days_with_data add
-- up to the calendar days of int_data_span, so no day is missing or counted twice; and its
-- months are complete exactly when fct_mrr_monthly says so (one definition, not two).
-- Returns a row per grain whose days do not add up and per month the two disagree on.

with

span_days as (
    select
        {{ dbt.datediff('data_start_date', 'data_end_date', 'day') }} + 1 as days_of_data
    from {{ ref('int_data_span') }}
),

grain_days as (
    select
        grain,
        sum(days_with_data) as days_with_data
    from {{ ref('dim_periods') }}
    group by grain
),

uncovered_grains as (
    select
        grain_days.grain,
        cast(null as date) as month,
        'days_with_data add up to ' || cast(grain_days.days_with_data as varchar)
        || ', not ' || cast(span_days.days_of_data as varchar) as problem
    from grain_days
    cross join span_days
    where grain_days.days_with_data != span_days.days_of_data
),

month_periods as (
    select
        period_start_date,
        is_complete
    from {{ ref('dim_periods') }}
    -- without billing data fct_mrr_monthly has no rows (assert_absent_data_is_null)
    where grain = 'month' and {{ core_data_area_present('billing') }}
),

month_disagreements as (
    select
        'month' as grain,
        coalesce(periods.period_start_date, mrr_months.month) as month,
        'dim_periods and fct_mrr_monthly disagree on whether the month is complete' as problem
    from month_periods as periods
    full outer join {{ ref('fct_mrr_monthly') }} as mrr_months
        on periods.period_start_date = mrr_months.month
    where
        periods.is_complete is null
        or mrr_months.is_complete_month is null
        or periods.is_complete != mrr_months.is_complete_month
),

final as (
    select * from uncovered_grains
    union all
    select * from month_disagreements
)

select * from final
