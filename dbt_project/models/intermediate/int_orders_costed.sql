{# One row per order with its cost of goods (order lines x product unit cost) in the reporting currency. #}
with

order_lines as (

    select * from {{ ref('stg_crm__order_lines') }}

),

products as (

    select * from {{ ref('stg_crm__products') }}

),

fx_rates as (

    select * from {{ ref('fx_rates') }}

),

costed as (

    select
        order_lines.order_id,
        sum(order_lines.quantity * products.unit_cost_usd) as cost_of_goods_usd,
        count(*) filter (where products.unit_cost_usd is null) as lines_without_cost
    from order_lines
    left join products on order_lines.product_id = products.product_id
    group by order_lines.order_id

),

final as (

    select
        costed.order_id,
        {{ to_reporting_currency('coalesce(costed.cost_of_goods_usd, 0)') }} as cost_of_goods_reporting,
        costed.lines_without_cost
    from costed
    inner join fx_rates as fx on fx.currency = 'USD'
    inner join fx_rates as reporting_fx on reporting_fx.currency = {{ reporting_currency() }}

)

select * from final
