-- One row per paid channel per day of marketing spend.

with

source as (
    select * from {{ source('raw', 'raw_marketing_spend') }}
),

final as (
    select
        spend_date,
        channel,
        spend_usd
    from source
)

select * from final
