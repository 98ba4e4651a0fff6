-- One row per invoice; amounts in US dollars. A declined first charge is retried: it ends paid
-- (recovered), failed (every retry declined) or is still open at the end of the data.

with

source as (
    select * from {{ source('raw', 'raw_invoices') }}
),

final as (
    select
        invoice_id,
        subscription_id,
        user_id,
        issued_at,
        period_start,
        period_end,
        amount_usd,
        status,
        attempt_count,
        paid_at,
        attempt_count > 1 or status in ('failed', 'open') as first_attempt_failed,
        status = 'paid' and attempt_count > 1 as is_recovered
    from source
)

select * from final
