with

source as (

    select * from {{ source('crm', 'orders') }}

),

renamed as (

    select
        -- ids
        order_id,
        customer_id,

        -- attributes
        lower(status) as order_status,
        upper(trim(currency)) as currency,

        -- numerics (original currency)
        cast(order_total as decimal(18, 2)) as order_total,

        -- timestamps (UTC)
        ordered_at,
        updated_at,
        _load_id,
        _loaded_at

    from source

)

select * from renamed
