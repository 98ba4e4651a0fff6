-- One row per calendar day: MetricFlow's time spine for metric_time joins and rollups.
-- A wide fixed range keeps it independent of the data; 7,670 rows cost nothing.
{{ config(materialized='table') }}

with

days as (
    {{ dbt.date_spine(
        datepart="day",
        start_date="cast('2015-01-01' as date)",
        end_date="cast('2036-01-01' as date)"
    ) }}
),

final as (
    select cast(date_day as date) as date_day
    from days
)

select * from final
