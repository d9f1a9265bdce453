{# Attributed revenue (last and first touch each) adds up to, and never exceeds, net revenue in fct_orders to the
   as-of date, and spend adds up to fct_ad_spend_daily to the as-of date: nothing is counted twice or lost. #}
{{ config(meta={'dagster': {'ref': {'name': 'mart_marketing_performance'}}}) }}

with

mart as (

    select
        sum(last_touch_revenue_reporting) as last_touch_revenue,
        sum(first_touch_revenue_reporting) as first_touch_revenue,
        sum(last_touch_orders) as last_touch_orders,
        sum(spend_reporting) as spend
    from {{ ref('mart_marketing_performance') }}

),

orders as (

    select
        sum(net_revenue_reporting) as net_revenue,
        count(*) filter (where not is_refunded) as completed_orders
    from {{ ref('fct_orders') }}
    where order_date <= {{ as_of_date() }}

),

ad_spend as (

    select sum(spend_reporting) as spend
    from {{ ref('fct_ad_spend_daily') }}
    where spend_reporting_date <= {{ as_of_date() }}

)

select
    mart.*,
    orders.*,
    ad_spend.spend as fct_spend
from mart cross join orders cross join ad_spend
where mart.last_touch_revenue > orders.net_revenue
    or mart.last_touch_revenue != orders.net_revenue
    or mart.first_touch_revenue != orders.net_revenue
    or mart.last_touch_orders != orders.completed_orders
    or mart.spend != ad_spend.spend
