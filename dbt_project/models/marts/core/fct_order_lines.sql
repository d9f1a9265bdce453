{{
    config(
        materialized='incremental',
        unique_key='order_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ delete_rows_gone_from(ref('int_orders_converted'), 'order_key') }}",
    )
}}
{# One row per order line of a real customer's order; money in the order's currency and in the reporting currency
   at the order's rate. Incremental per order (delete+insert by order_key, so an order's lines are replaced
   together): each run re-writes the lines of orders of unpublished loads (loaded_since_last_run), of orders with
   a line loaded since then, of orders whose resolved customer_key changed (a CRM duplicate merged), and of orders
   it does not hold yet. A pre-hook deletes the lines of orders no longer in int_orders_converted (their customer
   was since flagged as a test account). #}
with

order_lines as {{ read_in_place() }} (

    select * from {{ ref('stg_crm__order_lines') }}

),

orders as {{ read_in_place() }} (

    select * from {{ ref('int_orders_converted') }}

),

{% if is_incremental() %}
orders_to_process as (

    select order_id from orders where {{ loaded_since_last_run('orders._loaded_at') }}
    union
    select order_id from order_lines where {{ loaded_since_last_run('order_lines._loaded_at') }}
    union
    select orders.order_id
    from orders
    left join (select distinct order_key, customer_key from {{ this }}) as previous
        on orders.order_key = previous.order_key
    where previous.order_key is null or previous.customer_key is distinct from orders.customer_key

),
{% endif %}

final as (

    select
        {{ pseudonym('order_lines.order_line_id') }} as order_line_key,
        orders.order_key,
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
        orders.order_date,
        greatest(orders._loaded_at, order_lines._loaded_at) as _loaded_at
    from order_lines
    inner join orders on order_lines.order_id = orders.order_id
    {% if is_incremental() %}
    inner join orders_to_process on orders.order_id = orders_to_process.order_id
    {% endif %}

)

select * from final
