with

source as (

    select * from {{ source('crm', 'order_lines') }}

),

deduplicated as (

    {{ deduplicated('source', ['order_line_id'], 'updated_at desc, _load_id desc') }}

),

renamed as (

    select
        -- ids
        trim(order_line_id) as order_line_id,
        trim(order_id) as order_id,
        trim(product_id) as product_id,

        -- numerics (original currency of the order)
        cast(quantity as integer) as quantity,
        cast(unit_price as decimal(18, 2)) as unit_price,
        cast(line_total as decimal(18, 2)) as line_total,

        -- timestamps (UTC)
        {{ to_utc('updated_at') }} as updated_at,
        _load_id,
        _loaded_at

    from deduplicated

)

select * from renamed
