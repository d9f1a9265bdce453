{# Orders of real customers (test/internal accounts excluded) with money converted to the reporting currency at
   the rate of the order's reporting date, the resolved customer_key, and their line totals. order_key, the order's
   keyed pseudonym, is computed here once per run: fct_orders and fct_order_lines key, compare and prune their rows
   by it, and each computed it for every order twice a run (their pre-hooks, and finding what changed). #}
with

orders as (

    select * from {{ ref('stg_crm__orders') }}

),

order_lines as (

    select * from {{ ref('stg_crm__order_lines') }}

),

customers_resolved as (

    select * from {{ ref('int_customers_resolved') }}

),

lines_summarized as (

    select
        order_id,
        count(*) as line_count,
        sum(quantity) as item_quantity,
        sum(line_total) as lines_total
    from order_lines
    group by order_id

),

dated as (

    select
        orders.*,
        {{ reporting_date('orders.ordered_at') }} as order_date
    from orders

),

converted as (

    select
        dated.order_id,
        {{ pseudonym('dated.order_id') }} as order_key,
        dated.customer_id,
        customers_resolved.customer_key,
        dated.order_status,
        dated.order_status = 'refunded' as is_refunded,
        dated.currency,
        dated.order_total,
        cast({{ fx_rate_to_reporting('dated.currency') }} as double) as fx_rate_to_reporting,
        {{ to_reporting_currency('dated.order_total', 'dated.currency') }} as order_total_reporting,
        {{ reporting_currency() }} as reporting_currency,
        coalesce(lines_summarized.line_count, 0) as line_count,
        coalesce(lines_summarized.item_quantity, 0) as item_quantity,
        coalesce(lines_summarized.lines_total, 0) as lines_total,
        dated.ordered_at,
        dated.order_date,
        dated.updated_at,
        dated._loaded_at
    from dated
    left join customers_resolved on dated.customer_id = customers_resolved.customer_id
    left join lines_summarized on dated.order_id = lines_summarized.order_id
    {{ fx_join('dated.currency', 'dated.order_date') }}
    where not coalesce(customers_resolved.is_test_account, false)

)

select * from converted
