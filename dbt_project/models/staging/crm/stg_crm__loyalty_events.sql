with

source as (

    select * from {{ source('crm', 'loyalty_events') }}

),

renamed as (

    select
        -- ids
        loyalty_event_id,
        customer_id,
        order_id,

        -- attributes
        lower(event_type) as event_type,

        -- numerics (signed: earn > 0, redeem < 0)
        cast(points as integer) as points,

        -- timestamps (UTC)
        occurred_at

    from source

)

select * from renamed
