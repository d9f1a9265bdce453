{# One row per customer with at least one order: counts and revenue to the as-of date (refunds excluded from revenue). #}
with

orders as (

    select * from {{ ref('int_orders_converted') }}
    where order_date <= {{ as_of_date() }}

),

summarized as (

    select
        customer_id,
        min(order_date) as first_order_date,
        max(case when not is_refunded then order_date end) as last_order_date,
        count(*) as order_count,
        count(*) filter (where not is_refunded) as completed_order_count,
        count(*) filter (where is_refunded) as refunded_order_count,
        coalesce(sum(order_total_reporting) filter (where not is_refunded), 0) as net_revenue_reporting
    from orders
    group by customer_id

)

select * from summarized
