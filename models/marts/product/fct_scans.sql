{{ config(**incremental_by_date_config('scan_date')) }}

-- One row per résumé scan, with its day and the scanning user's acquisition channel and
-- segment. Incremental by scan_date (macros/incremental_by_date.sql): a nightly run rebuilds
-- only the last few days.

with

scans as (
    select
        scan_id,
        user_id,
        scanned_at,
        cast(scanned_at as date) as scan_date,
        match_rate,
        processing_ms,
        keywords_extracted,
        resume_format,
        job_category,
        status
    from {{ ref('stg_scans') }}
),

new_scans as (
    select * from scans
    where {{ incremental_lookback_condition_at('scanned_at', 'scan_date') }}
),

users as (
    select
        user_id,
        acquisition_channel,
        segment
    from {{ ref('stg_users') }}
),

final as (
    select
        new_scans.scan_id,
        new_scans.user_id,
        new_scans.scanned_at,
        new_scans.scan_date,
        new_scans.match_rate,
        new_scans.processing_ms,
        new_scans.keywords_extracted,
        new_scans.resume_format,
        new_scans.job_category,
        new_scans.status,
        new_scans.status = 'completed' as is_completed,
        users.acquisition_channel,
        users.segment
    from new_scans
    left join users
        on new_scans.user_id = users.user_id
)

select * from final
