-- One row per calendar day from the first to the last day of the data (int_data_span).

with

data_span as (
    select * from {{ ref('int_data_span') }}
),

days as (
    {{ core_date_series('day', 'data_span', 'data_span.data_start_date', 'data_span.data_end_date') }}
),

final as (
    select
        series_date as date_day,
        cast({{ dbt.date_trunc('month', 'series_date') }} as date) as month
    from days
)

select * from final
