{{ config(**incremental_by_key_config('visitor_id')) }}
{{ config(**incremental_input_days_config(
    [
        {
            'input': 'stg_sessions',
            'date_column': 'started_at',
            'columns': ['visitor_id', 'user_id', 'started_at', 'channel', 'device'],
        },
    ],
    'first_visit_date',
)) }}

-- One row per visitor (distinct visitor_id with a session), attributed to their first
-- session: its time, month, channel and device; user_id is the account they later used
-- (NULL for visitors who never signed in).
--
-- Incremental by visitor_id (macros/incremental_by_key.sql): a nightly run reads the sessions
-- from the first day of the lookback (incremental_lookback_days before the newest first visit
-- in the table) whose sessions changed since the last run, usually the new day alone (a
-- fingerprint of each day is kept beside the table: macros/incremental_input_months.sql), and
-- rewrites the rows of the visitors who had them. Every column is a minimum (the
-- smallest user_id, the earliest session and its channel and device), so a visitor's row so
-- far, taken as one session at their first visit, together with their new sessions gives the
-- row of all their sessions. Only the rows that differ from the stored ones are selected: a
-- returning visitor's later sessions usually change nothing (at 1M users, of the 85k visitors
-- a nightly run reads, the new visitors and the few returning ones who signed in).

with

sessions as (
    select
        visitor_id,
        user_id,
        started_at,
        channel,
        device
    from {{ ref('stg_sessions') }}
    where {{ incremental_changed_condition_at('started_at') }}
),

{% if is_incremental() %}
visitors_so_far as (
    -- the row of each returning visitor before this run, as their first session
    select
        visitor_id,
        user_id,
        first_visit_at as started_at,
        channel,
        device
    from {{ this }}
    where visitor_id in (select sessions.visitor_id from sessions)
),
{% endif %}

visits as (
    select * from sessions
    {% if is_incremental() %}
        union all
        select * from visitors_so_far
    {% endif %}
),

visitors as (
    select
        visitor_id,
        min(user_id) as user_id,
        min(started_at) as first_visit_at,
        {{ analytics_min_by('channel', 'started_at') }} as channel,
        {{ analytics_min_by('device', 'started_at') }} as device
    from visits
    group by visitor_id
),

written_visitors as (
    -- the rows this run writes: on a nightly run, the new visitors and the returning ones
    -- whose row changes
    select visitors.*
    from visitors
    {% if is_incremental() %}
        left join visitors_so_far
            on visitors.visitor_id = visitors_so_far.visitor_id
        where
            visitors_so_far.visitor_id is null
            or visitors.user_id is distinct from visitors_so_far.user_id
            or visitors.first_visit_at is distinct from visitors_so_far.started_at
            or visitors.channel is distinct from visitors_so_far.channel
            or visitors.device is distinct from visitors_so_far.device
    {% endif %}
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
    from written_visitors
)

select * from final
