with

customers as (

    select * from {{ ref('dim_customer') }}

),

customer_orders as (

    select * from {{ ref('int_orders_summarized_to_customers') }}

),

predictions as (

    select * from {{ ref('stg_customer_models__clv_predictions') }}

),

rfm as (

    select * from {{ ref('mart_rfm') }}

),

final as (

    select
        predictions.customer_key,
        predictions.as_of_date,
        customers.acquisition_source,
        customers.acquisition_medium,
        cast(date_trunc('month', customer_orders.first_completed_order_date) as date) as cohort_month,
        rfm.rfm_segment,
        customer_orders.completed_order_count as historical_order_count,
        customer_orders.net_revenue_reporting as historical_net_revenue_reporting,
        predictions.repeat_purchase_count,
        cast(predictions.recency_days as integer) as recency_days,
        cast(predictions.tenure_days as integer) as tenure_days,
        round(predictions.probability_alive, 6) as probability_alive,
        round(1 - predictions.probability_alive, 6) as churn_risk,
        round(predictions.expected_purchases_next_12_months, 4) as expected_purchases_next_12_months,
        cast(round(predictions.expected_average_order_value, 2) as decimal(18, 2)) as expected_average_order_value_reporting,
        cast(round(predictions.predicted_clv_12_months, 2) as decimal(18, 2)) as predicted_clv_12_months_reporting,
        {{ reporting_currency() }} as reporting_currency
    from predictions
    inner join customers on predictions.customer_key = customers.customer_key
    inner join customer_orders on customers.customer_key = customer_orders.customer_key
    left join rfm on predictions.customer_key = rfm.customer_key

)

select * from final
