-- Typed casts: the asset writes an empty table when it could not back-test, whose text columns then have no type.
-- `method` is a keyword to sqlfluff (RF04) but the name BI reads in mart_clv_backtest.
with

source as (

    select * from {{ source('customer_models', 'clv_backtest') }}

),

renamed as (

    select
        -- ids
        cast(method as varchar) as method,  -- noqa: RF04
        cast(is_model as boolean) as is_model,

        -- numerics (purchases = purchase days per customer in the holdout)
        cast(holdout_days as bigint) as holdout_days,
        cast(customers as bigint) as customers,
        cast(actual_purchases as bigint) as actual_purchases,
        cast(predicted_purchases as double) as predicted_purchases,
        cast(total_error as double) as total_error,
        cast(total_error_pct as double) as total_error_pct,
        cast(mean_absolute_error as double) as mean_absolute_error,

        -- dates
        cast(as_of_date as date) as as_of_date,
        cast(calibration_end_date as date) as calibration_end_date

    from source

)

select * from renamed
