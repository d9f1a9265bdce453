{# One row per order line of a real customer's order; money in the order's currency and in the reporting currency
   at the order's rate. #}
with

order_lines as (

    select * from {{ ref('stg_crm__order_lines') }}

),

orders as (

    select * from {{ ref('int_orders_converted') }}

),

final as (

    select
        {{ dbt.hash('order_lines.order_line_id') }} as order_line_key,
        order_lines.order_line_id,
        {{ dbt.hash('orders.order_id') }} as order_key,
        orders.customer_key,
        {{ dbt.hash('order_lines.product_id') }} as product_key,
        {{ date_key('orders.order_date') }} as order_date_key,
        orders.is_refunded,
        order_lines.quantity,
        orders.currency,
        order_lines.unit_price,
        order_lines.line_total,
        cast(round(order_lines.line_total * orders.fx_rate_to_reporting, 2) as decimal(18, 2)) as line_total_reporting,
        orders.reporting_currency,
        orders.order_date
    from order_lines
    inner join orders on order_lines.order_id = orders.order_id

)

select * from final
