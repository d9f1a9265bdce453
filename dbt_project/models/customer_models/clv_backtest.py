"""The purchase model's back-test against a naive baseline: orchestration/customer_models/in_dbt.py."""

from orchestration.customer_models.in_dbt import clv_backtest


def model(dbt, session):
    return clv_backtest(dbt.ref("fct_orders"), dbt.config.get("meta"))
