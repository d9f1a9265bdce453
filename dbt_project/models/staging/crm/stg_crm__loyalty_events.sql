with

source as (

    select * from {{ source('crm', 'loyalty_events') }}

),

deduplicated as (

    {{ deduplicated('source', ['loyalty_event_id'], 'updated_at desc, _load_id desc') }}

),

renamed as (

    select
        -- ids
        trim(loyalty_event_id) as loyalty_event_id,
        trim(customer_id) as customer_id,
        trim(order_id) as order_id,

        -- attributes
        lower(trim(event_type)) as event_type,

        -- numerics (signed: earn > 0, redeem, expire and reversal < 0)
        cast(points as integer) as points,

        -- timestamps (UTC)
        {{ to_utc('occurred_at') }} as occurred_at,
        {{ to_utc('updated_at') }} as updated_at,
        _load_id,
        _loaded_at

    from deduplicated

)

select * from renamed
