-- One row per calendar month that holds at least one day of data, with the day whose end
-- closes it: the month's last day, or the last day of the data for a month the data ends in.
-- Month-end MRR is measured at the end of month_end_date. is_complete_month is false for a
-- month the data starts after the 1st of, or ends before the last day of (the rule of
-- macros/core_is_complete_period.sql, which dim_periods uses for every grain).

with

data_span as (
    select * from {{ ref('int_data_span') }}
),

months as (
    {{ core_date_series(
        'month',
        'data_span',
        dbt.date_trunc('month', 'data_span.data_start_date'),
        'data_span.data_end_date'
    ) }}
),

final as (
    select
        months.series_date as month,
        case
            when {{ core_month_end_date('months.series_date') }} <= data_span.data_end_date
                then {{ core_month_end_date('months.series_date') }}
            else data_span.data_end_date
        end as month_end_date,
        {{ core_is_complete_period(
            'months.series_date', core_month_end_date('months.series_date')
        ) }} as is_complete_month
    from months
    cross join data_span
)

select * from final
