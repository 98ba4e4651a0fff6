-- One row per day, week (Monday to Sunday) and calendar month that holds at least one day of
-- data: its calendar days, the days the data covers, and whether it is complete. The one
-- definition of a complete period (macros/core_is_complete_period.sql, the docs block
-- complete_periods): every calendar day of it lies within the data (int_data_span). A cohort
-- is complete when its month is. Pages and narratives read completeness here and nowhere else.

with

data_span as (
    select * from {{ ref('int_data_span') }}
),

data_days as (
    select * from {{ ref('int_data_days') }}
),

day_periods as (
    -- every day of data once per grain, with the period it falls in
    select
        'day' as grain,
        date_day as period_start_date,
        date_day as period_end_date,
        date_day
    from data_days

    union all

    select
        'week' as grain,
        cast({{ dbt.date_trunc('week', 'date_day') }} as date) as period_start_date,
        cast({{ dbt.dateadd('day', 6, dbt.date_trunc('week', 'date_day')) }} as date)
            as period_end_date,
        date_day
    from data_days

    union all

    select
        'month' as grain,
        month as period_start_date,
        {{ core_month_end_date('month') }} as period_end_date,
        date_day
    from data_days
),

periods as (
    select
        grain,
        period_start_date,
        period_end_date,
        count(*) as days_with_data
    from day_periods
    group by grain, period_start_date, period_end_date
),

measured as (
    select
        periods.grain,
        periods.period_start_date,
        periods.period_end_date,
        cast(
            {{ dbt.datediff('periods.period_start_date', 'periods.period_end_date', 'day') }} + 1
            as integer
        ) as days_in_period,
        cast(periods.days_with_data as integer) as days_with_data,
        {{ core_is_complete_period('periods.period_start_date', 'periods.period_end_date') }}
            as is_complete
    from periods
    cross join data_span
),

final as (
    select
        grain,
        period_start_date,
        period_end_date,
        days_in_period,
        days_with_data,
        is_complete,
        -- what a page shows beside a partial period's figure, e.g. 'partial: 2 of 7 days'
        case
            when not is_complete
                then {{ dbt.concat([
                    "'partial: '",
                    "cast(days_with_data as " ~ dbt.type_string() ~ ")",
                    "' of '",
                    "cast(days_in_period as " ~ dbt.type_string() ~ ")",
                    "' days'",
                ]) }}
        end as partial_label
    from measured
)

select * from final
