"""The back-test of the purchase model clv_predictions uses, against a naive baseline (built after those
predictions: orchestration/customer_models/in_dbt.py)."""

from orchestration.customer_models.in_dbt import clv_backtest


def model(dbt, session):
    return clv_backtest(dbt.ref("fct_orders"), dbt.ref("clv_predictions"), dbt.config.get("meta"))
