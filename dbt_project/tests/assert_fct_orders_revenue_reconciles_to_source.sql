{# Revenue in fct_orders equals the cleaned source orders converted independently here; any row lost or duplicated
   by joins, or a wrong FX rate, breaks the equality. #}
with

source_orders as (

    select
        sum(orders.order_total * fx.rate_to_usd / reporting_fx.rate_to_usd) as total_reporting,
        count(*) as order_count
    from {{ ref('stg_crm__orders') }} as orders
    inner join {{ ref('fx_rates') }} as fx on orders.currency = fx.currency
    inner join {{ ref('fx_rates') }} as reporting_fx on reporting_fx.currency = {{ reporting_currency() }}

),

fact as (

    select sum(order_total_reporting) as total_reporting, count(*) as order_count
    from {{ ref('fct_orders') }}

)

select *
from source_orders cross join fact
where source_orders.order_count != fact.order_count
    or abs(source_orders.total_reporting - fact.total_reporting) > 0.005 * source_orders.order_count
