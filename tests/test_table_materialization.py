"""The project's `table` materialization (dbt_project/macros/materializations/table.sql) replaces a table in place, in
one transaction: a failed build leaves the previous table, a good one leaves no side table, and Python models (built
aside, then renamed in) still work."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from tests.conftest import XS, Baseline
from tests.dbt_harness import run_dbt

SQL_MODEL = "staging.stg_crm__products"
PYTHON_MODEL = "customer_models.clv_predictions"
RUN_SETTINGS = {"as_of_date": str(XS.end_date)}  # the baseline run's


def _warehouse_copy(baseline: Baseline, tmp_path: Path) -> Path:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shutil.copyfile(baseline.settings.warehouse_path, data_dir / "warehouse.duckdb")  # checkpointed by the baseline
    return data_dir


def _fingerprint(warehouse: Path, table: str) -> tuple[int, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(f"select count(*), sum(hash(t)) from {table} as t").fetchone()


def _side_tables(warehouse: Path) -> list[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [
            f"{schema}.{name}"
            for schema, name in con.execute("select schema_name, table_name from duckdb_tables()").fetchall()
            if name.endswith(("__dbt_tmp", "__dbt_backup"))
        ]


def test_a_failed_table_build_leaves_the_previous_table_and_the_next_build_replaces_it(
    xs_baseline: Baseline, tmp_path: Path
) -> None:
    data_dir = _warehouse_copy(xs_baseline, tmp_path)
    warehouse = data_dir / "warehouse.duckdb"
    before = _fingerprint(warehouse, SQL_MODEL)
    assert before[0] > 0
    with duckdb.connect(str(warehouse)) as con:  # the model's source loses a column it reads: its SQL fails
        con.execute("alter table raw.crm_products rename column category to category_gone")

    with pytest.raises(AssertionError, match="stg_crm__products"):
        run_dbt(data_dir, "run", "--select", "stg_crm__products", run_settings=RUN_SETTINGS)
    assert _fingerprint(warehouse, SQL_MODEL) == before  # the drop was rolled back with the failed create
    assert _side_tables(warehouse) == []

    with duckdb.connect(str(warehouse)) as con:
        con.execute("alter table raw.crm_products rename column category_gone to category")
        con.execute("update raw.crm_products set category = upper(category)")  # the model lower-cases it again
        con.execute(f"delete from {SQL_MODEL} where product_id = (select min(product_id) from {SQL_MODEL})")
    run_dbt(data_dir, "run", "--select", "stg_crm__products", run_settings=RUN_SETTINGS)
    assert _fingerprint(warehouse, SQL_MODEL) == before
    assert _side_tables(warehouse) == []


def test_sql_models_are_replaced_without_a_swap_and_python_models_through_one(
    xs_baseline: Baseline, tmp_path: Path
) -> None:
    """dbt-duckdb's own materialization renames the old table to <name>__dbt_backup and a new one from
    <name>__dbt_tmp; this project's drops and creates a SQL model's table, and builds a Python model aside (dbt-duckdb
    runs it on a cursor of its own) before renaming it in."""
    data_dir = _warehouse_copy(xs_baseline, tmp_path)
    warehouse = data_dir / "warehouse.duckdb"
    before = {table: _fingerprint(warehouse, table) for table in (SQL_MODEL, PYTHON_MODEL)}

    run_dbt(data_dir, "run", "--select", "stg_crm__products", "clv_predictions", run_settings=RUN_SETTINGS)

    assert {table: _fingerprint(warehouse, table) for table in before} == before
    assert _side_tables(warehouse) == []
    log = (data_dir / "dbt_logs" / "dbt.log").read_text()
    assert "stg_crm__products__dbt" not in log
    assert "clv_predictions__dbt_tmp" in log
    assert "clv_predictions__dbt_backup" not in log
