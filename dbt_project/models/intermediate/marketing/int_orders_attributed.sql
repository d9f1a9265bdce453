{# One row per completed order on or before the as-of date with its last touch (the channel of the web session in
   which the order was placed, found through the purchase event's transaction id) and first touch (the channel of
   the customer's first web session). An order without a purchase session, or a customer without any session, is
   attributed to '(unattributed)' rather than dropped, so attributed revenue always adds up to net revenue. #}
with

orders as (

    select * from {{ ref('int_orders_converted') }}
    where not is_refunded
        and order_date <= {{ as_of_date() }}

),

events as (

    select * from {{ ref('stg_ga4__events') }}

),

sessions as (

    select * from {{ ref('int_web_sessions_stitched') }}

),

first_touch as (

    select * from {{ ref('int_customers_first_touch') }}

),

purchase_sessions as (

    select
        order_id,
        arg_min(
            {{ dbt.hash(dbt.concat(['user_pseudo_id', "'|'", 'cast(ga_session_id as varchar)'])) }},
            (event_at, event_id)
        ) as session_key
    from events
    where event_name = 'purchase'
        and order_id is not null
    group by order_id

),

final as (

    select
        orders.order_id,
        orders.customer_id,
        orders.order_date,
        orders.order_total_reporting as net_revenue_reporting,
        orders.reporting_currency,
        row_number() over (partition by orders.customer_id order by orders.ordered_at, orders.order_id) = 1
            as is_first_order,
        purchase_sessions.session_key as last_touch_session_key,
        coalesce(last_touch.traffic_source, '(unattributed)') as last_touch_source,
        coalesce(last_touch.traffic_medium, '(unattributed)') as last_touch_medium,
        coalesce(last_touch.ad_platform, '(none)') as last_touch_platform,
        coalesce(last_touch.campaign_name, '(none)') as last_touch_campaign,
        first_touch.first_session_key as first_touch_session_key,
        coalesce(first_touch.first_touch_source, '(unattributed)') as first_touch_source,
        coalesce(first_touch.first_touch_medium, '(unattributed)') as first_touch_medium,
        coalesce(first_touch.first_touch_platform, '(none)') as first_touch_platform,
        coalesce(first_touch.first_touch_campaign, '(none)') as first_touch_campaign
    from orders
    left join purchase_sessions on orders.order_id = purchase_sessions.order_id
    left join sessions as last_touch on purchase_sessions.session_key = last_touch.session_key
    left join first_touch on orders.customer_id = first_touch.customer_id

)

select * from final
