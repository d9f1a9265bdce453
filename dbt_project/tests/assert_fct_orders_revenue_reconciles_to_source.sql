{# Revenue in fct_orders equals the cleaned source orders (deduplicated, test accounts excluded) converted here
   independently, each at the latest seed rate on or before its reporting date (a correlated as-of lookup on the
   seed, not int_fx_rates_daily), and every such order is in the fact exactly once: a row lost to an FX join, a
   duplicate from a join, or a wrong rate or date breaks it. #}
{{ config(meta={'dagster': {'ref': {'name': 'fct_orders'}}}) }}

with

cleaned_orders as (

    select
        orders.order_id,
        orders.currency,
        orders.order_total,
        {{ reporting_date('orders.ordered_at') }} as order_date
    from {{ ref('stg_crm__orders') }} as orders
    left join {{ ref('stg_crm__customers') }} as customers on orders.customer_id = customers.customer_id
    where not coalesce(customers.is_test_account, false)

),

converted as (

    select
        order_id,
        cast(round(
            order_total
            * (
                select rates.rate_to_usd from {{ ref('fx_rates') }} as rates
                where rates.currency = cleaned_orders.currency and rates.rate_date <= cleaned_orders.order_date
                order by rates.rate_date desc limit 1
            )
            / (
                select rates.rate_to_usd from {{ ref('fx_rates') }} as rates
                where rates.currency = {{ reporting_currency() }} and rates.rate_date <= cleaned_orders.order_date
                order by rates.rate_date desc limit 1
            ),
            2
        ) as decimal(18, 2)) as order_total_reporting
    from cleaned_orders

),

source_orders as (

    select
        sum(order_total_reporting) as total_reporting,
        count(*) as order_count,
        count(distinct order_id) as ids
    from converted

),

fact as (

    select
        sum(order_total_reporting) as total_reporting,
        count(*) as order_count,
        count(distinct order_id) as ids
    from {{ ref('fct_orders') }}

)

select
    source_orders.order_count as source_order_count,
    source_orders.ids as source_ids,
    source_orders.total_reporting as source_total_reporting,
    fact.order_count as fact_order_count,
    fact.ids as fact_ids,
    fact.total_reporting as fact_total_reporting
from source_orders cross join fact
where source_orders.order_count != fact.order_count
    or source_orders.ids != fact.ids
    or source_orders.total_reporting is distinct from fact.total_reporting
