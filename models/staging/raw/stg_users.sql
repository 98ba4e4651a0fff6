-- One row per user: the raw signup facts with e-mail and country normalised.
-- No casts: the enforced contract in _staging.yml fails the build if a raw column is
-- missing or has another type, instead of silently converting it.

with

source as (
    select * from {{ source('raw', 'raw_users') }}
),

final as (
    select
        user_id,
        lower(trim(email)) as email,
        trim(full_name) as full_name,
        upper(trim(country)) as country,
        segment,
        acquisition_channel,
        device,
        signed_up_at,
        cast(signed_up_at as date) as signup_date
    from source
)

select * from final
