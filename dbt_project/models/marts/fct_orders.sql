with

orders as (

    select * from {{ ref('int_orders_converted') }}

),

final as (

    select
        {{ dbt.hash('order_id') }} as order_key,
        order_id,
        {{ dbt.hash('customer_id') }} as customer_key,
        cast(strftime(order_date, '%Y%m%d') as integer) as order_date_key,
        order_status,
        is_refunded,
        currency,
        order_total,
        order_total_reporting,
        case when is_refunded then 0 else order_total_reporting end as net_revenue_reporting,
        reporting_currency,
        line_count,
        item_quantity,
        ordered_at,
        order_date
    from orders

)

select * from final
