{# Earn entries follow the programme: `loyalty_points_per_usd` points per whole USD of a completed order (the order's
   USD value at its reporting date's rate; one point of slack for rounding at the whole-dollar boundary in the
   source system), and only completed orders of the same resolved customer earn. #}
with

earns as (

    select * from {{ ref('int_loyalty_events_with_expiry') }}
    where event_type = 'earn'

),

orders as (

    select * from {{ ref('fct_orders') }}

)

select earns.loyalty_event_id, earns.points, orders.order_status, orders.order_total, orders.currency
from earns
left join orders on earns.order_id = orders.order_id
left join {{ ref('int_fx_rates_daily') }} as fx on orders.currency = fx.currency and orders.order_date = fx.rate_date
where orders.order_id is null
    or orders.order_status != 'completed'
    or orders.customer_key != earns.customer_key
    or abs(earns.points - floor(orders.order_total * fx.rate_to_usd) * {{ var('loyalty_points_per_usd') }}) > 1
