{{ config(**incremental_by_key_config('user_id')) }}

-- One row per user with the time they reached each stage of the ordered signup funnel.
-- A user reaches a stage only after reaching the previous one, at the later of the previous
-- stage's time and the stage's own event:
--   scanned   first scan (any status) within 7 days of signup
--   activated 3rd completed scan within 14 days of signup
--   converted first paid subscription within 30 days of signup
--   retained  a paid subscription still active 30 days after the first payment, where that
--             instant lies inside the data (on or before int_data_span's last day): a payer
--             whose day 30 is after the end of the data is not (yet) retained
--
-- Incremental by user_id (macros/incremental_by_key.sql): a nightly run rewrites the rows of
-- the users new days can change, from all their events. With R the lookback start
-- (incremental_lookback_days before the newest signup day in the table), those are the users
-- who signed up 14 days or less before R (their scan and activation windows are still open),
-- the users with a subscription started 30 days or less before R or ended since R (first
-- payment, hence conversion, and retention, whose day 30 may now be inside the data), and the
-- users whose first visit in int_visitors is not the one in their row (a visitor who came back
-- signed in as another user). A user who signed up earlier and has none of these keeps their
-- row: their first 14 days ended before R, and a conversion needs a payment. Only the users
-- who signed up 14 days or less before R have scans read; the others' scanned and activated
-- times are the ones in their stored row.

with

{% if is_incremental() %}
rebuild_start as (
    -- R; 14 days before it (a user who signed up since then can still scan or activate) and
    -- 30 days before it (a subscription started since then can still convert or retain)
    select
        rebuilt_from,
        {{ dbt.dateadd('day', -14, 'rebuilt_from') }} as scan_windows_from,
        {{ dbt.dateadd('day', -30, 'rebuilt_from') }} as open_windows_from
    from (
        select cast({{ incremental_rebuild_start('signup_date') }} as timestamp) as rebuilt_from
    ) as lookback
),
{% endif %}

signups as (
    select
        user_id,
        signed_up_at,
        acquisition_channel,
        segment,
        device
    from {{ ref('stg_users') }}
),

scans as (
    select
        user_id,
        scan_id,
        scanned_at,
        status
    from {{ ref('stg_scans') }}
    {% if is_incremental() %}
        -- the scans of the users whose scans are read (scanning_users below)
        where scanned_at >= (select rebuild_start.scan_windows_from from rebuild_start)
    {% endif %}
),

subscriptions as (
    select
        user_id,
        started_at,
        ended_at
    from {{ ref('stg_subscriptions') }}
),

data_span as (
    select data_end_date from {{ ref('int_data_span') }}
),

visitors as (
    select
        user_id,
        first_visit_at
    from {{ ref('int_visitors') }}
    where user_id is not null
),

user_first_visits as (
    select
        user_id,
        min(first_visit_at) as first_visit_at
    from visitors
    group by user_id
),

{% if is_incremental() %}
changed_users as (
    select signups.user_id
    from signups
    where
        signups.signed_up_at
        >= (select rebuild_start.scan_windows_from from rebuild_start)

    union

    select subscriptions.user_id
    from subscriptions
    where
        subscriptions.started_at
        >= (select rebuild_start.open_windows_from from rebuild_start)
        or subscriptions.ended_at >= (select rebuild_start.rebuilt_from from rebuild_start)

    union

    -- the first visit int_visitors gives now is not the one in the user's row (whose signup
    -- time is the user's: raw rows before the lookback do not change)
    select previous_rows.user_id
    from {{ this }} as previous_rows
    left join user_first_visits
        on previous_rows.user_id = user_first_visits.user_id
    where
        previous_rows.first_visit_at is distinct from case
            when user_first_visits.first_visit_at <= previous_rows.signed_up_at
                then user_first_visits.first_visit_at
        end
),
{% endif %}

users as (
    select * from signups
    {% if is_incremental() %}
        where signups.user_id in (select changed_users.user_id from changed_users)
    {% endif %}
),

scanning_users as (
    -- the users whose scans are read: every user on a full build
    select
        user_id,
        signed_up_at
    from users
    {% if is_incremental() %}
        where
            signed_up_at
            >= (select rebuild_start.scan_windows_from from rebuild_start)
    {% endif %}
),

early_scans as (
    -- only scans in the first 14 days can count towards scanned or activated
    select
        scans.user_id,
        scans.scan_id,
        scans.scanned_at,
        scans.status
    from scans
    inner join scanning_users
        on scans.user_id = scanning_users.user_id
    where
        scans.scanned_at >= scanning_users.signed_up_at
        and scans.scanned_at < {{ dbt.dateadd('day', 14, 'scanning_users.signed_up_at') }}
),

ranked_completed_scans as (
    select
        user_id,
        scanned_at,
        row_number() over (partition by user_id order by scanned_at, scan_id) as completed_scan_number
    from early_scans
    where status = 'completed'
),

early_scan_facts as (
    select
        user_id,
        min(scanned_at) as first_scan_at
    from early_scans
    group by user_id
),

third_completed_scans as (
    select
        user_id,
        scanned_at as third_completed_scan_at
    from ranked_completed_scans
    where completed_scan_number = 3
),

scan_stages as (
    -- scanned: the first scan within 7 days of signup; the 3rd completed scan within 14 days
    select
        scanning_users.user_id,
        case
            when
                early_scan_facts.first_scan_at
                < {{ dbt.dateadd('day', 7, 'scanning_users.signed_up_at') }}
                then early_scan_facts.first_scan_at
        end as scanned_at,
        third_completed_scans.third_completed_scan_at
    from scanning_users
    left join early_scan_facts
        on scanning_users.user_id = early_scan_facts.user_id
    left join third_completed_scans
        on scanning_users.user_id = third_completed_scans.user_id
    {% if is_incremental() %}

        union all

        -- the stored scanned and activated times of the users whose scans are not read:
        -- activated (the later of scanned and the 3rd completed scan) in place of the 3rd
        -- completed scan gives the same activated time below
        select
            previous_rows.user_id,
            previous_rows.scanned_at,
            previous_rows.activated_at as third_completed_scan_at
        from {{ this }} as previous_rows
        where
            previous_rows.user_id in (select users.user_id from users)
            and previous_rows.signed_up_at
            < (select rebuild_start.scan_windows_from from rebuild_start)
    {% endif %}
),

first_payments as (
    select
        user_id,
        min(started_at) as first_paid_at
    from subscriptions
    group by user_id
),

retained_payers as (
    -- paying at the instant 30 days after the first payment, when the data reaches that
    -- instant (the data ends at the end of data_end_date, as in fct_funnel_monthly.is_mature)
    select distinct first_payments.user_id
    from first_payments
    cross join data_span
    inner join subscriptions
        on
            first_payments.user_id = subscriptions.user_id
            and subscriptions.started_at <= {{ dbt.dateadd('day', 30, 'first_payments.first_paid_at') }}
            and (
                subscriptions.ended_at is null
                or subscriptions.ended_at > {{ dbt.dateadd('day', 30, 'first_payments.first_paid_at') }}
            )
    where
        {{ dbt.dateadd('day', 30, 'first_payments.first_paid_at') }}
        < {{ dbt.dateadd('day', 1, 'data_span.data_end_date') }}
),

user_events as (
    select
        users.user_id,
        users.signed_up_at,
        users.acquisition_channel,
        users.segment,
        users.device,
        case
            when user_first_visits.first_visit_at <= users.signed_up_at
                then user_first_visits.first_visit_at
        end as first_visit_at,
        scan_stages.scanned_at,
        scan_stages.third_completed_scan_at,
        case
            when
                first_payments.first_paid_at >= users.signed_up_at
                and first_payments.first_paid_at < {{ dbt.dateadd('day', 30, 'users.signed_up_at') }}
                then first_payments.first_paid_at
        end as converted_payment_at,
        first_payments.first_paid_at,
        case
            when retained_payers.user_id is not null
                then {{ dbt.dateadd('day', 30, 'first_payments.first_paid_at') }}
        end as retention_checked_at
    from users
    left join user_first_visits
        on users.user_id = user_first_visits.user_id
    left join scan_stages
        on users.user_id = scan_stages.user_id
    left join first_payments
        on users.user_id = first_payments.user_id
    left join retained_payers
        on users.user_id = retained_payers.user_id
),

scanned as (
    select
        *,
        scanned_at as scanned_stage_at
    from user_events
),

activated as (
    select
        *,
        case
            when scanned_stage_at is not null and third_completed_scan_at is not null
                then greatest(scanned_stage_at, third_completed_scan_at)
        end as activated_stage_at
    from scanned
),

converted as (
    select
        *,
        case
            when activated_stage_at is not null and converted_payment_at is not null
                then greatest(activated_stage_at, converted_payment_at)
        end as converted_stage_at
    from activated
),

retained as (
    select
        *,
        case
            when converted_stage_at is not null and retention_checked_at is not null
                then greatest(converted_stage_at, retention_checked_at)
        end as retained_stage_at
    from converted
),

final as (
    select
        user_id,
        signed_up_at,
        cast(signed_up_at as date) as signup_date,
        cast({{ dbt.date_trunc('month', 'signed_up_at') }} as date) as signup_month,
        acquisition_channel,
        segment,
        device,
        first_visit_at,
        first_paid_at,
        scanned_stage_at as scanned_at,
        activated_stage_at as activated_at,
        converted_stage_at as converted_at,
        retained_stage_at as retained_at,
        scanned_stage_at is not null as is_scanned,
        activated_stage_at is not null as is_activated,
        converted_stage_at is not null as is_converted,
        retained_stage_at is not null as is_retained
    from retained
)

select * from final
