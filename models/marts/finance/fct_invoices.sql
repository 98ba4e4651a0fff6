-- One row per invoice, with the plan and billing cycle of the subscription it bills: the event
-- table for "what did this customer pay, and which payments failed".

with

invoices as (
    select * from {{ ref('stg_invoices') }}
),

subscriptions as (
    select
        subscription_id,
        plan,
        billing_cycle
    from {{ ref('int_subscription_periods') }}
),

final as (
    select
        invoices.invoice_id,
        invoices.subscription_id,
        invoices.user_id,
        subscriptions.plan,
        subscriptions.billing_cycle,
        invoices.issued_at,
        cast(invoices.issued_at as date) as issued_date,
        invoices.period_start,
        invoices.period_end,
        cast(invoices.amount_usd as decimal(18, 2)) as amount_usd,
        invoices.status,
        invoices.attempt_count,
        invoices.paid_at,
        invoices.first_attempt_failed,
        invoices.is_recovered
    from invoices
    left join subscriptions
        on invoices.subscription_id = subscriptions.subscription_id
)

select * from final
