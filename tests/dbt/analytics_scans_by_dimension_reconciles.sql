-- fct_scans_by_dimension, every identity in one test. Each returned row names the month, the
-- check and the slice that breaks it:
--   all_is_daily   the 'all' rows equal fct_product_daily summed over the month's days: scans,
--                  completed and failed scans, and the average match rate and keywords as the
--                  completed-scan-weighted average of the daily averages (to 1e-9); every
--                  month of fct_product_daily with scans has its 'all' row and no other month
--                  has one
--   slices_add_up  in every month each dimension's slices sum to the 'all' row's scans,
--                  completed and failed scans (each scan lies in exactly one format, category
--                  and keyword band: so the keyword_bands seed has no gap and no overlap), and
--                  the 'all' row's scanning users lie between the largest slice's and the sum
--                  of the slices' (a user can scan in several slices)
--   failed_band    completed scans never fall in the keyword band with no limits, failed ones
--                  never in another
--   unbanded       no slice has a NULL value (a keyword count no band holds would make one:
--                  its scans would still add up, so slices_add_up alone misses a gap)
--   newest_day     the 'all' row's last_scan_date is the month's newest day with scans in
--                  fct_product_daily, and the newest of each dimension's slices; every
--                  slice's lies in its month (a nightly build re-aggregates from it)

with

slices as (
    select * from {{ ref('fct_scans_by_dimension') }}
),

product_daily as (
    select * from {{ ref('fct_product_daily') }}
),

keyword_bands as (
    select * from {{ ref('keyword_bands') }}
),

daily_months as (
    select
        cast({{ dbt.date_trunc('month', 'activity_date') }} as date) as scan_month,
        max(case when scans > 0 then activity_date end) as last_scan_date,
        sum(scans) as scans,
        sum(completed_scans) as completed_scans,
        sum(failed_scans) as failed_scans,
        sum(avg_match_rate * completed_scans) / nullif(sum(completed_scans), 0)
            as avg_match_rate,
        sum(avg_keywords_extracted * completed_scans) / nullif(sum(completed_scans), 0)
            as avg_keywords_extracted
    from product_daily
    group by cast({{ dbt.date_trunc('month', 'activity_date') }} as date)
    having sum(scans) > 0
),

all_rows as (
    select * from slices
    where dimension = 'all'
),

all_is_daily as (
    select
        coalesce(all_rows.scan_month, daily_months.scan_month) as scan_month,
        'all_is_daily' as check_name,
        'all' as dimension_value
    from all_rows
    full outer join daily_months
        on all_rows.scan_month = daily_months.scan_month
    where
        all_rows.scan_month is null
        or daily_months.scan_month is null
        or all_rows.scans != daily_months.scans
        or all_rows.completed_scans != daily_months.completed_scans
        or all_rows.failed_scans != daily_months.failed_scans
        or abs(all_rows.avg_match_rate - daily_months.avg_match_rate) > 1e-9
        or abs(all_rows.avg_keywords_extracted - daily_months.avg_keywords_extracted) > 1e-9
),

dimension_sums as (
    select
        scan_month,
        dimension,
        sum(scans) as scans,
        sum(completed_scans) as completed_scans,
        sum(failed_scans) as failed_scans,
        sum(scanning_users) as scanning_users_sum,
        max(scanning_users) as scanning_users_max,
        max(last_scan_date) as last_scan_date
    from slices
    where dimension != 'all'
    group by scan_month, dimension
),

slices_add_up as (
    select
        all_rows.scan_month,
        'slices_add_up' as check_name,
        dimension_sums.dimension as dimension_value
    from all_rows
    left join dimension_sums
        on all_rows.scan_month = dimension_sums.scan_month
    where
        dimension_sums.scan_month is null
        or all_rows.scans != dimension_sums.scans
        or all_rows.completed_scans != dimension_sums.completed_scans
        or all_rows.failed_scans != dimension_sums.failed_scans
        or all_rows.scanning_users > dimension_sums.scanning_users_sum
        or all_rows.scanning_users < dimension_sums.scanning_users_max
),

missing_dimensions as (
    -- every month with an 'all' row has all three dimensions
    select
        all_rows.scan_month,
        'slices_add_up' as check_name,
        'a dimension is missing' as dimension_value
    from all_rows
    left join dimension_sums
        on all_rows.scan_month = dimension_sums.scan_month
    group by all_rows.scan_month
    having count(distinct dimension_sums.dimension) != 3
),

failed_band as (
    select
        slices.scan_month,
        'failed_band' as check_name,
        slices.dimension_value
    from slices
    inner join keyword_bands
        on slices.dimension_value = keyword_bands.keywords_band
    where
        slices.dimension = 'keywords_band'
        and (
            (keyword_bands.min_keywords is null and slices.completed_scans > 0)
            or (keyword_bands.min_keywords is not null and slices.failed_scans > 0)
        )
),

newest_day as (
    select
        slices.scan_month,
        'newest_day' as check_name,
        {{ dbt.concat(['slices.dimension', "': '", 'slices.dimension_value']) }} as dimension_value
    from slices
    left join daily_months
        on slices.scan_month = daily_months.scan_month
    left join dimension_sums
        on
            slices.scan_month = dimension_sums.scan_month
            and slices.dimension = dimension_sums.dimension
    where
        slices.last_scan_date < slices.scan_month
        or slices.last_scan_date >= {{ dbt.dateadd('month', 1, 'slices.scan_month') }}
        or (slices.dimension = 'all' and slices.last_scan_date != daily_months.last_scan_date)
        or (slices.dimension != 'all' and slices.last_scan_date > daily_months.last_scan_date)
        or dimension_sums.last_scan_date != daily_months.last_scan_date
),

unbanded as (
    select
        scan_month,
        'unbanded' as check_name,
        dimension as dimension_value
    from slices
    where dimension_value is null
)

select * from all_is_daily
union all
select * from unbanded
union all
select * from newest_day
union all
select * from slices_add_up
union all
select * from missing_dimensions
union all
select * from failed_band
