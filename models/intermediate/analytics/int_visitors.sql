{{ config(materialized='table') }}

-- One row per visitor (distinct visitor_id with a session), attributed to their first
-- session: its time, month, channel and device; user_id is the account they later used
-- (NULL for visitors who never signed in).

with

sessions as (
    select
        visitor_id,
        user_id,
        started_at,
        channel,
        device
    from {{ ref('stg_sessions') }}
),

visitors as (
    select
        visitor_id,
        min(user_id) as user_id,
        min(started_at) as first_visit_at,
        {{ analytics_min_by('channel', 'started_at') }} as channel,
        {{ analytics_min_by('device', 'started_at') }} as device
    from sessions
    group by visitor_id
),

final as (
    select
        visitor_id,
        user_id,
        first_visit_at,
        cast(first_visit_at as date) as first_visit_date,
        cast({{ dbt.date_trunc('month', 'first_visit_at') }} as date) as first_visit_month,
        channel,
        device
    from visitors
)

select * from final
