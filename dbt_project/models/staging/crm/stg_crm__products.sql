with

source as (

    select * from {{ source('crm', 'products') }}

),

deduplicated as (

    {{ deduplicated('source', ['product_id'], 'updated_at desc, _load_id desc') }}

),

renamed as (

    select
        -- ids
        trim(product_id) as product_id,
        sku,

        -- attributes
        product_name,
        lower(trim(category)) as category,

        -- numerics (catalogue is priced in USD)
        cast(list_price_usd as decimal(18, 2)) as list_price_usd,
        cast(unit_cost_usd as decimal(18, 2)) as unit_cost_usd

    from deduplicated

)

select * from renamed
