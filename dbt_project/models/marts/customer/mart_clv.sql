with

customers as (

    select * from {{ ref('dim_customer') }}

),

customer_orders as (

    select * from {{ ref('int_orders_summarized_to_customers') }}

),

predictions as (

    select
        customer_key,
        as_of_date,
        frequency as repeat_purchase_count,
        recency_days,
        tenure_days,
        probability_alive,
        expected_purchases_next_12_months,
        expected_average_order_value,
        predicted_clv_12_months
    from {{ ref('clv_predictions') }}

),

rfm as (

    select * from {{ ref('mart_rfm') }}

),

orders as (

    select * from {{ ref('int_orders_converted') }}
    where not is_refunded
        and order_date <= {{ as_of_date() }}

),

order_costs as (

    select * from {{ ref('int_orders_costed') }}

),

first_touch as (

    select * from {{ ref('int_customers_first_touch') }}

),

margins as (

    {# Gross margin of completed orders: revenue less the cost of the goods (refunded orders earn no margin). Null
       when the cost of any of the customer's orders is unknown (int_orders_costed): a partial sum would overstate
       it. #}
    select
        orders.customer_key,
        case
            when count(order_costs.cost_of_goods_reporting) = count(*)
                then sum(orders.order_total_reporting - order_costs.cost_of_goods_reporting)
        end as historical_gross_margin_reporting
    from orders
    left join order_costs on orders.order_id = order_costs.order_id
    group by orders.customer_key

),

final as (

    select
        predictions.customer_key,
        predictions.as_of_date,
        customers.acquisition_source,
        customers.acquisition_medium,
        coalesce(first_touch.first_touch_source, {{ unknown_channel() }}) as first_touch_source,
        coalesce(first_touch.first_touch_medium, {{ unknown_channel() }}) as first_touch_medium,
        coalesce(first_touch.first_touch_platform, '(none)') as first_touch_platform,
        cast(date_trunc('month', customer_orders.first_completed_order_date) as date) as cohort_month,
        rfm.rfm_segment,
        customer_orders.completed_order_count as historical_order_count,
        customer_orders.net_revenue_reporting as historical_net_revenue_reporting,
        cast(margins.historical_gross_margin_reporting as decimal(18, 2)) as historical_gross_margin_reporting,
        predictions.repeat_purchase_count,
        cast(predictions.recency_days as integer) as recency_days,
        cast(predictions.tenure_days as integer) as tenure_days,
        round(predictions.probability_alive, 6) as probability_alive,
        round(1 - predictions.probability_alive, 6) as churn_risk,
        round(predictions.expected_purchases_next_12_months, 4) as expected_purchases_next_12_months,
        cast(
            round(predictions.expected_average_order_value, 2) as decimal(18, 2)
        ) as expected_average_order_value_reporting,
        cast(round(predictions.predicted_clv_12_months, 2) as decimal(18, 2)) as predicted_clv_12_months_reporting,
        {{ reporting_currency() }} as reporting_currency
    from predictions
    inner join customers on predictions.customer_key = customers.customer_key
    inner join customer_orders on customers.customer_key = customer_orders.customer_key
    left join rfm on predictions.customer_key = rfm.customer_key
    left join margins on customers.customer_key = margins.customer_key
    left join first_touch on customers.customer_key = first_touch.customer_key

)

select * from final
