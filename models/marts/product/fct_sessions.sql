{{ config(**incremental_by_date_config('session_date')) }}

-- One row per website or app session, with its day and whether the visitor was signed in.
-- Incremental by session_date (macros/incremental_by_date.sql): a nightly run rebuilds only
-- the last few days.

with

sessions as (
    select
        session_id,
        visitor_id,
        user_id,
        started_at,
        cast(started_at as date) as session_date,
        channel,
        device,
        landing_page
    from {{ ref('stg_sessions') }}
    where {{ incremental_lookback_condition_at('started_at', 'session_date') }}
),

final as (
    select
        session_id,
        visitor_id,
        user_id,
        started_at,
        session_date,
        channel,
        device,
        landing_page,
        user_id is not null as is_signed_in
    from sessions
)

select * from final
