-- One row per résumé scan.

with

source as (
    select * from {{ source('raw', 'raw_scans') }}
),

final as (
    select
        scan_id,
        user_id,
        scanned_at,
        match_rate,
        processing_ms,
        keywords_extracted,
        resume_format,
        job_category,
        status
    from source
)

select * from final
