-- One row per invoice; amounts in US dollars.

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
        status
    from source
)

select * from final
