{# One row per order of a real customer with its cost of goods (order lines x product unit cost, USD) in the
   reporting currency at the rate of the order's reporting date, like its revenue in int_orders_converted. An
   unknown cost stays unknown: an order with a line whose product has no unit cost, or with no lines at all, has a
   null cost of goods (never 0, which would make its gross margin equal its revenue). #}
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
        case
            when costed.order_id is not null and costed.lines_without_cost = 0
                then {{ to_reporting_currency('costed.cost_of_goods_usd', "'USD'") }}
        end as cost_of_goods_reporting,
        coalesce(costed.lines_without_cost, 0) as lines_without_cost,
        costed.order_id is null as has_no_lines
    from orders
    left join costed on orders.order_id = costed.order_id
    {{ fx_join("'USD'", 'orders.order_date') }}

)

select * from final
