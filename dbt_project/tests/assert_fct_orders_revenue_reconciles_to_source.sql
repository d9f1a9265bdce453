{# Revenue in fct_orders equals the cleaned source orders converted independently here, and every source order is
   in the fact: a row lost to an FX join (unknown currency), duplicated by a join, or a wrong rate breaks it. The
   count is taken without any join, so it cannot lose rows the same way the fact would. #}
with

source_orders as (

    select
        (
            select sum(orders.order_total * fx.rate_to_usd / reporting_fx.rate_to_usd)
            from {{ ref('stg_crm__orders') }} as orders
            inner join {{ ref('fx_rates') }} as fx on orders.currency = fx.currency
            inner join {{ ref('fx_rates') }} as reporting_fx on reporting_fx.currency = {{ reporting_currency() }}
        ) as total_reporting,
        (select count(*) from {{ ref('stg_crm__orders') }}) as order_count

),

fact as (

    select sum(order_total_reporting) as total_reporting, count(*) as order_count
    from {{ ref('fct_orders') }}

)

select *
from source_orders cross join fact
where source_orders.order_count != fact.order_count
    or abs(source_orders.total_reporting - fact.total_reporting) > 0.005 * source_orders.order_count
