{# Earn entries follow the programme: `loyalty_points_per_usd` points per whole USD of a completed order of the same
   resolved customer (a refunded order earns too, and its reversal takes the points back:
   assert_loyalty_refunds_reverse_their_points). USD orders are checked exactly (one point of slack for float
   rounding at the whole-dollar boundary in the source system). The CRM converts other currencies at its own rate,
   which the warehouse does not receive, so their points must lie within the conversion at the lowest and highest
   ECB rate to USD of that currency in the two years up to the as-of date (a CRM's own rate may lag the market): a
   wrong unit or a foreign order counted as USD still fails. #}
{{ config(meta={'dagster': {'ref': {'name': 'int_loyalty_events_with_expiry'}}}) }}

with

earns as (

    select * from {{ ref('int_loyalty_events_with_expiry') }}
    where event_type = 'earn'

),

orders as (

    select * from {{ ref('fct_orders') }}

),

rate_ranges as (

    select
        rates.currency,
        min(rates.rate_to_base / usd.rate_to_base) as min_rate_to_usd,
        max(rates.rate_to_base / usd.rate_to_base) as max_rate_to_usd
    from {{ ref('stg_fx__rates') }} as rates
    inner join {{ ref('stg_fx__rates') }} as usd
        on usd.rate_source = 'ecb' and usd.currency = 'USD' and rates.rate_date = usd.rate_date
    where rates.rate_source = 'ecb'
        and rates.rate_date > {{ dbt.dateadd('day', -730, as_of_date()) }}
        and rates.rate_date <= {{ as_of_date() }}
    group by rates.currency

)

select
    earns.loyalty_event_id,
    earns.points,
    orders.order_status,
    orders.order_total,
    orders.currency
from earns
left join orders on {{ pseudonym('earns.order_id') }} = orders.order_key
left join rate_ranges on orders.currency = rate_ranges.currency
where orders.order_key is null
    or orders.customer_key != earns.customer_key
    or rate_ranges.currency is null
    or (
        orders.currency = 'USD'
        and abs(earns.points - floor(orders.order_total) * {{ var('loyalty_points_per_usd') }}) > 1
    )
    or earns.points < floor(orders.order_total * rate_ranges.min_rate_to_usd) * {{ var('loyalty_points_per_usd') }} - 1
    or earns.points > floor(orders.order_total * rate_ranges.max_rate_to_usd) * {{ var('loyalty_points_per_usd') }} + 1
