{# Earn entries follow the programme: `loyalty_points_per_usd` points per whole USD of a completed order (one point of
   slack for float rounding at the whole-dollar boundary in the source system), and only completed orders earn. #}
with

earns as (

    select * from {{ ref('int_loyalty_events_with_expiry') }}
    where event_type = 'earn'

),

orders as (

    select * from {{ ref('stg_crm__orders') }}

),

fx_rates as (

    select * from {{ ref('fx_rates') }}

)

select earns.loyalty_event_id, earns.points, orders.order_status, orders.order_total, orders.currency
from earns
left join orders on earns.order_id = orders.order_id
left join fx_rates as fx on orders.currency = fx.currency
where orders.order_id is null
    or orders.order_status != 'completed'
    or abs(earns.points - floor(orders.order_total * fx.rate_to_usd) * {{ var('loyalty_points_per_usd') }}) > 1
