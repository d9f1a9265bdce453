{{
    config(
        materialized='incremental',
        unique_key='order_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
{# One row per order of a real customer. Incremental: each run replaces the orders loaded since the last run
   (minus the lookback; a re-delivered order, e.g. refunded later, carries a new _loaded_at) and the orders whose
   resolved customer_key changed (a CRM duplicate merged). #}
with

orders as (

    select * from {{ ref('int_orders_converted') }}

),

to_process as (

    select orders.*
    from orders
    {{ changed_since_last_run('orders', 'order_id') }}

),

final as (

    select
        {{ dbt.hash('order_id') }} as order_key,
        order_id,
        customer_key,
        {{ date_key('order_date') }} as order_date_key,
        order_status,
        is_refunded,
        currency,
        order_total,
        fx_rate_to_reporting,
        order_total_reporting,
        case when is_refunded then 0 else order_total_reporting end as net_revenue_reporting,
        reporting_currency,
        line_count,
        item_quantity,
        ordered_at,
        order_date,
        _loaded_at
    from to_process

)

select * from final
