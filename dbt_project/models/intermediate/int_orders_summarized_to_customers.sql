{# One row per resolved customer (customer_key) with at least one order: counts, revenue and order dates to the
   as-of date (refunds excluded from revenue and from the completed-order dates). Orders of merged duplicate CRM
   records count once, under their shared key. #}
with

orders as {{ read_in_place() }} (

    select * from {{ ref('int_orders_converted') }}
    where order_date <= {{ as_of_date() }}

),

completed_order_days as (

    select distinct
        customer_key,
        order_date
    from orders
    where not is_refunded

),

last_two_order_days as (

    select
        customer_key,
        max(order_date) as last_order_date,
        max(order_date) filter (where order_day_rank = 2) as previous_order_date
    from (
        select
            *,
            row_number() over (partition by customer_key order by order_date desc) as order_day_rank
        from completed_order_days
    ) as ranked
    group by customer_key

),

summarized as (

    select
        customer_key,
        min(order_date) as first_order_date,
        max(order_date) as latest_order_date,
        min(order_date) filter (where not is_refunded) as first_completed_order_date,
        count(*) as order_count,
        count(*) filter (where not is_refunded) as completed_order_count,
        count(*) filter (where is_refunded) as refunded_order_count,
        coalesce(sum(order_total_reporting) filter (where is_refunded), 0) as refunded_revenue_reporting,
        coalesce(sum(order_total_reporting) filter (where not is_refunded), 0) as net_revenue_reporting
    from orders
    group by customer_key

),

final as (

    select
        summarized.customer_key,
        summarized.first_order_date,
        summarized.latest_order_date,
        summarized.first_completed_order_date,
        last_two_order_days.last_order_date,
        last_two_order_days.previous_order_date,
        summarized.order_count,
        summarized.completed_order_count,
        summarized.refunded_order_count,
        summarized.refunded_revenue_reporting,
        summarized.net_revenue_reporting
    from summarized
    left join last_two_order_days on summarized.customer_key = last_two_order_days.customer_key

)

select * from final
