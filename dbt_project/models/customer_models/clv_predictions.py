"""MBG/NBD + Gamma-Gamma predictions per customer: orchestration/customer_models/in_dbt.py."""

from orchestration.customer_models.in_dbt import clv_predictions


def model(dbt, session):
    return clv_predictions(dbt.ref("fct_orders"), dbt.config.get("meta"))
