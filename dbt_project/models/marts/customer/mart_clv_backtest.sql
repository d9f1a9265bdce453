with

backtest as (

    {# Typed casts: an empty back-test (too little history) has no type for its text columns. `method` is a keyword
       to sqlfluff (RF04) but the name BI reads. #}
    select
        cast(method as varchar) as method,  -- noqa: RF04
        cast(is_model as boolean) as is_model,
        cast(as_of_date as date) as as_of_date,
        cast(calibration_end_date as date) as calibration_end_date,
        cast(holdout_days as bigint) as holdout_days,
        cast(customers as bigint) as customers,
        cast(actual_purchases as bigint) as actual_purchases,
        cast(predicted_purchases as double) as predicted_purchases,
        cast(total_error as double) as total_error,
        cast(total_error_pct as double) as total_error_pct,
        cast(mean_absolute_error as double) as mean_absolute_error
    from {{ ref('clv_backtest') }}

),

baseline as (

    select mean_absolute_error as baseline_mean_absolute_error
    from backtest
    where not is_model

),

final as (

    select
        backtest.method,
        backtest.is_model,
        backtest.as_of_date,
        backtest.calibration_end_date,
        backtest.holdout_days,
        backtest.customers,
        backtest.actual_purchases,
        round(backtest.predicted_purchases, 2) as predicted_purchases,
        round(backtest.total_error, 2) as total_error,
        round(backtest.total_error_pct, 2) as total_error_pct,
        round(backtest.mean_absolute_error, 4) as mean_absolute_error,
        backtest.mean_absolute_error <= baseline.baseline_mean_absolute_error as is_no_worse_than_baseline
    from backtest
    cross join baseline

)

select * from final
