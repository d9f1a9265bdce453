with

backtest as (

    select * from {{ ref('stg_customer_models__clv_backtest') }}

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
