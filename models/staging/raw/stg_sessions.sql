-- One row per website or app session (anonymous sessions have no user_id).

with

source as (
    select * from {{ source('raw', 'raw_sessions') }}
),

final as (
    select
        session_id,
        visitor_id,
        user_id,
        started_at,
        channel,
        device,
        landing_page
    from source
)

select * from final
