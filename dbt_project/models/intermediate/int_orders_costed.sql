{# One row per order of a real customer with its cost of goods (order lines x product unit cost, USD) in the
   reporting currency at the rate of the order's reporting date, like its revenue in int_orders_converted. #}
with

orders as (

    select * from {{ ref('int_orders_converted') }}

),

order_lines as (

    select * from {{ ref('stg_crm__order_lines') }}

),

products as (

    select * from {{ ref('stg_crm__products') }}

),

costed as (

    select
        order_lines.order_id,
        sum(order_lines.quantity * products.unit_cost_usd) as cost_of_goods_usd,
        count(*) filter (where products.unit_cost_usd is null) as lines_without_cost
    from order_lines
    left join products on order_lines.product_id = products.product_id
    group by order_lines.order_id

),

final as (

    select
        orders.order_id,
        {{ to_reporting_currency('coalesce(costed.cost_of_goods_usd, 0)') }} as cost_of_goods_reporting,
        coalesce(costed.lines_without_cost, 0) as lines_without_cost
    from orders
    left join costed on orders.order_id = costed.order_id
    {{ fx_joins("'USD'", 'orders.order_date') }}

)

select * from final
