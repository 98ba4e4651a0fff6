{{ config(**incremental_by_key_config('user_id')) }}

-- One row per user (everyone who signed up, paying or not) with signup facts, acquisition
-- channel, segment, country, and their paying history as of the end of the data: first
-- payment, current plan and MRR, lifetime revenue, and when they churned. Personal data
-- (e-mail, name) stays in stg_users. Without billing data (a product-only import) the paying
-- figures and status are NULL: unknown, not 0 and never_paid.
--
-- Incremental by user_id (macros/incremental_by_key.sql): a nightly run rewrites the rows of
-- the users new days can change, from all their rows. With R the lookback start
-- (incremental_lookback_days before the newest signup day in the table), those are the users
-- who signed up since R, who have a subscription that started or ends since R (its MRR and
-- plan count or stop counting at the new end of the data) and who have an invoice issued or
-- paid since R (an invoice still in payment retries is settled later).

with

signups as (
    -- the columns used only: stg_users also cleans the e-mail and name, of every user
    select
        user_id,
        signed_up_at,
        signup_date,
        acquisition_channel,
        segment,
        country,
        device
    from {{ ref('stg_users') }}
),

subscriptions as (
    select * from {{ ref('int_subscription_periods') }}
),

change_days as (
    select * from {{ ref('int_customer_mrr_change_days') }}
),

invoices as (
    select
        user_id,
        issued_at,
        paid_at,
        amount_usd,
        status
    from {{ ref('stg_invoices') }}
),

{% if is_incremental() %}
rebuild_start as (
    select cast({{ incremental_rebuild_start('signup_date') }} as timestamp) as rebuilt_from
),

changed_users as (
    select signups.user_id
    from signups
    where signups.signed_up_at >= (select rebuild_start.rebuilt_from from rebuild_start)

    union

    select subscriptions.user_id
    from subscriptions
    where
        subscriptions.started_at >= (select rebuild_start.rebuilt_from from rebuild_start)
        or subscriptions.ended_at >= (select rebuild_start.rebuilt_from from rebuild_start)

    union

    select invoices.user_id
    from invoices
    where
        invoices.issued_at >= (select rebuild_start.rebuilt_from from rebuild_start)
        or invoices.paid_at >= (select rebuild_start.rebuilt_from from rebuild_start)
),
{% endif %}

users as (
    select * from signups
    {% if is_incremental() %}
        where signups.user_id in (select changed_users.user_id from changed_users)
    {% endif %}
),

subscription_history as (
    select
        user_id,
        min(started_at) as first_paid_at,
        max(ended_at) as last_ended_at,
        count(*) as subscription_count
    from subscriptions
    group by user_id
),

first_subscriptions as (
    select
        user_id,
        plan as first_plan
    from subscriptions
    where subscription_number = 1
),

current_subscriptions as (
    -- the subscription(s) active at the last instant of the data; the largest MRR names the plan
    select
        user_id,
        plan as current_plan,
        billing_cycle as current_billing_cycle,
        row_number() over (
            partition by user_id order by mrr_usd desc, subscription_id asc
        ) as current_rank
    from subscriptions
    where is_active_at_data_end
),

current_mrr as (
    -- MRR after the customer's last change day = MRR at the end of the data
    select
        user_id,
        mrr as current_mrr,
        row_number() over (partition by user_id order by change_date desc) as recency_rank
    from change_days
),

revenue as (
    select
        user_id,
        sum(case when status = 'paid' then amount_usd else 0 end) as lifetime_revenue_usd,
        sum(case when status = 'refunded' then amount_usd else 0 end) as refunded_usd
    from invoices
    group by user_id
),

joined as (
    select
        users.user_id,
        users.signed_up_at,
        users.signup_date,
        cast({{ dbt.date_trunc('month', 'users.signup_date') }} as date) as signup_month,
        users.acquisition_channel,
        users.segment,
        users.country,
        users.device,
        subscription_history.first_paid_at,
        first_subscriptions.first_plan,
        current_subscriptions.current_plan,
        current_subscriptions.current_billing_cycle,
        coalesce(current_mrr.current_mrr, 0) as current_mrr,
        coalesce(subscription_history.subscription_count, 0) as subscription_count,
        coalesce(revenue.lifetime_revenue_usd, 0) as lifetime_revenue_usd,
        coalesce(revenue.refunded_usd, 0) as refunded_usd,
        subscription_history.last_ended_at
    from users
    left join subscription_history
        on users.user_id = subscription_history.user_id
    left join first_subscriptions
        on users.user_id = first_subscriptions.user_id
    left join current_subscriptions
        on
            users.user_id = current_subscriptions.user_id
            and current_subscriptions.current_rank = 1
    left join current_mrr
        on
            users.user_id = current_mrr.user_id
            and current_mrr.recency_rank = 1
    left join revenue
        on users.user_id = revenue.user_id
),

final as (
    select
        user_id,
        signed_up_at,
        cast(signup_date as date) as signup_date,
        cast(signup_month as date) as signup_month,
        acquisition_channel,
        segment,
        country,
        device,
        first_paid_at,
        cast(first_paid_at as date) as first_paid_date,
        first_plan,
        current_plan,
        current_billing_cycle,
        -- without billing data (dim_data_coverage) who pays, and how much, is unknown: NULL
        case when {{ core_data_area_present('billing') }} then cast(current_mrr as decimal(18, 6)) end as current_mrr,
        case when {{ core_data_area_present('billing') }} then cast(current_mrr * 12 as decimal(18, 6)) end as current_arr,
        case when {{ core_data_area_present('billing') }} then current_mrr > 0 end as is_paying,
        case
            when not {{ core_data_area_present('billing') }} then null
            when current_mrr > 0 then 'paying'
            when first_paid_at is not null then 'churned'
            else 'never_paid'
        end as customer_status,
        case
            when current_mrr = 0 and first_paid_at is not null then last_ended_at
        end as churned_at,
        case when {{ core_data_area_present('billing') }} then cast(subscription_count as bigint) end as subscription_count,
        case
            when {{ core_data_area_present('billing') }} then cast(lifetime_revenue_usd as decimal(18, 2))
        end as lifetime_revenue_usd,
        case when {{ core_data_area_present('billing') }} then cast(refunded_usd as decimal(18, 2)) end as refunded_usd
    from joined
)

select * from final
