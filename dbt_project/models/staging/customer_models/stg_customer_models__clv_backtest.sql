with

source as (

    select * from {{ source('customer_models', 'clv_backtest') }}

),

renamed as (

    select
        -- ids
        method,
        is_model,

        -- numerics (purchases = purchase days per customer in the holdout)
        holdout_days,
        customers,
        actual_purchases,
        predicted_purchases,
        total_error,
        total_error_pct,
        mean_absolute_error,

        -- dates
        cast(as_of_date as date) as as_of_date,
        cast(calibration_end_date as date) as calibration_end_date

    from source

)

select * from renamed
