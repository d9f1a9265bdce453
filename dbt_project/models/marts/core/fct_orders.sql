{{
    config(
        materialized='incremental',
        unique_key='order_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ delete_rows_gone_from(ref('int_orders_converted'), 'order_key') }}",
    )
}}
{# One row per order of a real customer, with the customer's SCD2 version at order time (customer_version_key), so
   point-in-time questions ("accepts marketing when they ordered") join dim_customer_history on it. Incremental: each
   run replaces the orders of unpublished loads (loaded_since_last_run; a re-delivered order, e.g. refunded later,
   carries a new _loaded_at) and the orders whose resolved customer_key or customer version changed (a CRM duplicate
   merged; a change delivered late that starts a version before the order). A pre-hook deletes the orders no longer in
   int_orders_converted (their customer was since flagged as a test account). #}
with

orders as {{ read_in_place() }} (

    select * from {{ ref('int_orders_converted') }}

),

customer_versions as (

    select * from {{ ref('dim_customer_history') }}

),

{# The version valid at ordered_at is the latest one started at or before it. An order older than the customer's
   history (it starts at the first snapshot that saw the customer) gets the first version, the earliest state known. #}
versions_started as (

    select
        orders.order_id,
        customer_versions.customer_version_key,
        row_number() over (
            partition by orders.order_id order by customer_versions.valid_from desc
        ) as recency_rank
    from orders
    inner join customer_versions
        on orders.customer_key = customer_versions.customer_key
        and (orders.ordered_at >= customer_versions.valid_from or customer_versions.version_number = 1)

),

orders_versioned as (

    select
        orders.*,
        versions_started.customer_version_key
    from orders
    left join versions_started
        on orders.order_id = versions_started.order_id
        and versions_started.recency_rank = 1

),

to_process as (

    select orders_versioned.*
    from orders_versioned
    {{ changed_since_last_run('orders_versioned', 'order_key', ['customer_key', 'customer_version_key']) }}

),

final as (

    select
        order_key,
        customer_key,
        customer_version_key,
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
