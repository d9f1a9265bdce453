with

products as (

    select * from {{ ref('stg_crm__products') }}

),

final as (

    select
        {{ dbt.hash('product_id') }} as product_key,
        product_id,
        sku,
        product_name,
        category,
        list_price_usd,
        unit_cost_usd
    from products

)

select * from final
