with

source as (

    select * from {{ source('crm', 'products') }}

),

renamed as (

    select
        -- ids
        product_id,
        sku,

        -- attributes
        product_name,
        lower(category) as category,

        -- numerics (catalogue is priced in USD)
        cast(list_price_usd as decimal(18, 2)) as list_price_usd,
        cast(unit_cost_usd as decimal(18, 2)) as unit_cost_usd

    from source

)

select * from renamed
