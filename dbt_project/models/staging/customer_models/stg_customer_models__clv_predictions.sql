with

source as (

    select * from {{ source('customer_models', 'clv_predictions') }}

),

renamed as (

    select
        -- ids
        customer_key,

        -- numerics (time unit: days; money in the reporting currency)
        frequency as repeat_purchase_count,
        recency_days,
        tenure_days,
        average_repeat_order_value,
        probability_alive,
        expected_purchases_next_12_months,
        expected_average_order_value,
        predicted_clv_12_months,

        -- dates
        as_of_date

    from source

)

select * from renamed
