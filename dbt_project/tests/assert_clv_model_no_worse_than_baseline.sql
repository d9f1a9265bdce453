{# The back-test's verdict, blocking like every dbt test: the purchase model predicts each customer's purchase days
   in the holdout with a mean absolute error no worse than the naive baseline (the calibration rate carried
   forward), or the run does not publish. Passes when the history is too short to back-test (clv_backtest is
   empty). Returns the model's row with both errors when it loses. #}
{{ config(meta={'dagster': {'ref': {'name': 'clv_backtest'}}}) }}

with

backtest as (

    select * from {{ ref('clv_backtest') }}

),

model as (

    select * from backtest
    where is_model

),

baseline as (

    select mean_absolute_error from backtest
    where not is_model

)

select
    model.method,
    model.mean_absolute_error,
    baseline.mean_absolute_error as baseline_mean_absolute_error
from model
cross join baseline
where model.mean_absolute_error > baseline.mean_absolute_error
