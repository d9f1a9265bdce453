{# Orders with money in the reporting currency, a reporting-timezone date and their line totals. #}
with

orders as (

    select * from {{ ref('stg_crm__orders') }}

),

order_lines as (

    select * from {{ ref('stg_crm__order_lines') }}

),

fx_rates as (

    select * from {{ ref('fx_rates') }}

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

converted as (

    select
        orders.order_id,
        orders.customer_id,
        orders.order_status,
        orders.order_status = 'refunded' as is_refunded,
        orders.currency,
        orders.order_total,
        {{ to_reporting_currency('orders.order_total') }} as order_total_reporting,
        {{ reporting_currency() }} as reporting_currency,
        coalesce(lines_summarized.line_count, 0) as line_count,
        coalesce(lines_summarized.item_quantity, 0) as item_quantity,
        coalesce(lines_summarized.lines_total, 0) as lines_total,
        orders.ordered_at,
        {{ reporting_date('orders.ordered_at') }} as order_date
    from orders
    left join lines_summarized on orders.order_id = lines_summarized.order_id
    inner join fx_rates as fx on orders.currency = fx.currency
    inner join fx_rates as reporting_fx on reporting_fx.currency = {{ reporting_currency() }}

)

select * from converted
