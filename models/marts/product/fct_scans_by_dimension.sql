{{ config(**incremental_by_date_config('scan_month')) }}
{{ config(**incremental_input_months_config(
    'fct_scans',
    'scan_date',
    'last_scan_date',
    [
        'scan_date',
        'user_id',
        'status',
        'match_rate',
        'processing_ms',
        'keywords_extracted',
        'resume_format',
        'job_category',
    ],
    ['keyword_bands'],
)) }}

-- One row per (month, dimension, dimension value) of résumé scans: volumes, failures,
-- scanning users, match rate, keywords and processing-time percentiles. Long format
-- (macros/analytics_dimension_rollup.sql): dimension is 'all', 'resume_format',
-- 'job_category' or 'keywords_band'; the keyword bands are the keyword_bands seed.
-- Incremental by month (macros/incremental_by_date.sql with scan_month as the key): a nightly
-- run re-aggregates whole months, because a month's percentiles and distinct users need all of
-- its scans, from the month holding the lookback start: incremental_lookback_days before the
-- newest scan day in the table (last_scan_date), the first day fct_scans re-selects. Mid-month
-- that is the current month alone; in a month's first days, the previous one too, unless its
-- scans are the same as when it was aggregated (macros/incremental_input_months.sql).

with

rebuilt_months as (
    -- the first month this run writes: every month on a full build; from the lookback month,
    -- the first whose scans (or keyword bands) changed on an incremental one
    select {{ incremental_first_changed_period() }} as rebuild_from
),

scans as (
    select
        cast({{ dbt.date_trunc('month', 'scan_date') }} as date) as scan_month,
        scan_date,
        user_id,
        status,
        match_rate,
        processing_ms,
        keywords_extracted,
        resume_format,
        job_category
    from {{ ref('fct_scans') }}
    where scan_date >= (select rebuilt_months.rebuild_from from rebuilt_months)
),

keyword_bands as (
    select
        keywords_band,
        min_keywords,
        max_keywords
    from {{ ref('keyword_bands') }}
),

banded_scans as (
    -- a completed scan's band holds its keyword count; a failed scan (no count) goes to the
    -- band with no limits
    select
        scans.scan_month,
        scans.scan_date,
        scans.user_id,
        scans.processing_ms,
        scans.resume_format,
        scans.job_category,
        keyword_bands.keywords_band,
        case when scans.status = 'completed' then 1 else 0 end as completed,
        case when scans.status = 'failed' then 1 else 0 end as failed,
        -- as DECIMAL so its sum, and the average, are exact whatever order the rows come in
        -- (an incremental build then equals a full refresh to the last bit)
        case
            when scans.status = 'completed' then cast(scans.match_rate as decimal(18, 6))
        end as completed_match_rate,
        case when scans.status = 'completed' then scans.keywords_extracted end
            as completed_keywords_extracted
    from scans
    left join keyword_bands
        on
            (scans.keywords_extracted is null and keyword_bands.min_keywords is null)
            or (
                scans.keywords_extracted >= keyword_bands.min_keywords
                and (
                    keyword_bands.max_keywords is null
                    or scans.keywords_extracted <= keyword_bands.max_keywords
                )
            )
),

slices as (
    {{ analytics_dimension_rollup(
        'banded_scans',
        ['scan_month'],
        ['resume_format', 'job_category', 'keywords_band'],
        {
            'scans': 'count(*)',
            'completed_scans': 'sum(completed)',
            'failed_scans': 'sum(failed)',
            'scanning_users': 'count(distinct user_id)',
            'avg_match_rate': 'avg(completed_match_rate)',
            'avg_keywords_extracted': 'avg(completed_keywords_extracted)',
            'p50_processing_ms': analytics_percentile('processing_ms', 0.5),
            'p95_processing_ms': analytics_percentile('processing_ms', 0.95),
            'last_scan_date': 'max(scan_date)',
        }
    ) }}
),

final as (
    select
        scan_month,
        cast(dimension as {{ dbt.type_string() }}) as dimension,
        cast(dimension_value as {{ dbt.type_string() }}) as dimension_value,
        cast(scans as bigint) as scans,
        cast(completed_scans as bigint) as completed_scans,
        cast(failed_scans as bigint) as failed_scans,
        cast(failed_scans as {{ analytics_type_double() }}) / nullif(scans, 0) as failure_rate,
        cast(scanning_users as bigint) as scanning_users,
        cast(avg_match_rate as {{ analytics_type_double() }}) as avg_match_rate,
        cast(avg_keywords_extracted as {{ analytics_type_double() }}) as avg_keywords_extracted,
        cast(p50_processing_ms as {{ analytics_type_double() }}) as p50_processing_ms,
        cast(p95_processing_ms as {{ analytics_type_double() }}) as p95_processing_ms,
        cast(last_scan_date as date) as last_scan_date
    from slices
)

select * from final
