with

source as (

    select * from {{ source('crm', 'orders') }}

),

deduplicated as (

    {{ deduplicated('source', ['order_id'], 'updated_at desc, _load_id desc') }}

),

renamed as (

    select
        -- ids
        trim(order_id) as order_id,
        trim(customer_id) as customer_id,

        -- attributes
        lower(trim(status)) as order_status,
        upper(trim(currency)) as currency,

        -- numerics (original currency)
        cast(order_total as decimal(18, 2)) as order_total,

        -- timestamps (UTC)
        {{ to_utc('ordered_at') }} as ordered_at,
        {{ to_utc('updated_at') }} as updated_at,
        _load_id,
        _loaded_at

    from deduplicated

)

select * from renamed
