"""The project's own generic dbt tests fail on exactly the rows they promise to and pass a clean table, and a
published mart's check constraint fails its build: dbt run against hand-made tables (a test reads whatever the
relation holds; a model reads its inputs), no pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.dbt_harness import run_dbt


def test_primary_key_and_not_null_columns_fail_on_each_bad_row_and_pass_clean_ones(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.execute("create schema staging")
        # orders: o1 twice (one duplicate key), one null key; customer_id or currency missing on two rows
        con.execute(
            "create table staging.stg_crm__orders as select * from (values "
            "('o1', 'c1', 'USD'), ('o1', 'c2', 'EUR'), (null, 'c3', 'USD'), ('o2', null, 'USD'), ('o3', 'c4', null),"
            " ('o4', 'c5', 'GBP')) as t(order_id, customer_id, currency)"
        )
        con.execute(
            "create table staging.stg_crm__customers as select * from (values "
            "('c1', false, timestamp '2015-03-01'), ('c2', true, timestamp '2026-01-01')) "
            "as t(customer_id, is_test_account, signed_up_at)"
        )
    selected = [
        f"test_name:{test},{model}"
        for test in ("primary_key", "not_null_columns")
        for model in ("stg_crm__orders", "stg_crm__customers")
    ]
    with pytest.raises(AssertionError, match="failed"):
        run_dbt(tmp_path, "test", "--select", *selected)

    results = json.loads((tmp_path / "dbt_target" / "run_results.json").read_text())["results"]
    outcome = {r["unique_id"].split(".")[2]: (r["status"], r["failures"]) for r in results}
    assert outcome == {
        "primary_key_stg_crm__orders_order_id": ("fail", 2),  # the duplicated o1 and the null key
        "not_null_columns_stg_crm__orders_customer_id__currency": ("fail", 2),  # o2 and o3
        "primary_key_stg_crm__customers_customer_id": ("pass", 0),
        "not_null_columns_stg_crm__customers_is_test_account__signed_up_at": ("pass", 0),
    }


def test_a_published_marts_check_constraint_fails_its_build_naming_the_rule(tmp_path: Path) -> None:
    """Published marts declare their value rules as enforced `check` constraints (DuckDB checks each row as the
    model is built): a row breaking one fails the model, naming the rule; here `mart_clv_backtest` over a hand-made
    `clv_backtest` whose method is unknown. (Clean inputs build: every pipeline run builds it.)"""
    columns = (
        "method, is_model, as_of_date, calibration_end_date, holdout_days, customers, actual_purchases, "
        "predicted_purchases, total_error, total_error_pct, mean_absolute_error"
    )
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.execute("create schema customer_models")
        con.execute(
            "create table customer_models.clv_backtest as select * from (values "
            "('magic', true, date '2026-10-31', date '2026-05-04', 180, 100, 40, 42.0, 2.0, 5.0, 0.3),"
            " ('calibration_rate_carried_forward', false, date '2026-10-31', date '2026-05-04', 180, 100, 40,"
            f" 35.0, -5.0, -12.5, 0.4)) as t({columns})"
        )
    with pytest.raises(AssertionError, match=r"mart_clv_backtest: .*CHECK constraint failed.*\"method\" IN"):
        run_dbt(tmp_path, "run", "--select", "mart_clv_backtest")
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute(
            "select count(*) from information_schema.tables where table_schema = 'marts'"
        ).fetchall() == [(0,)]  # nothing of the failed model was left
