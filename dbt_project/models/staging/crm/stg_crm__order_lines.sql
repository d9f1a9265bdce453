with

source as (

    select * from {{ source('crm', 'order_lines') }}

),

renamed as (

    select
        -- ids
        order_line_id,
        order_id,
        product_id,

        -- numerics (original currency of the order)
        cast(quantity as integer) as quantity,
        cast(unit_price as decimal(18, 2)) as unit_price,
        cast(line_total as decimal(18, 2)) as line_total

    from source

)

select * from renamed
