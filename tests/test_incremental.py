"""Incremental facts over daily loads equal one full refresh, including late, re-delivered and re-keyed rows.

The XS data is split by day into successive loads. On top of that, each load also carries: events of the previous
window delivered late, orders of the previous window re-delivered refunded, the previous window's last ad day
restated, and (in the last load) a new CRM record that merges with an existing customer under a smaller id, so the
resolved customer_key of old orders and sessions changes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from tests.conftest import XS
from tests.dbt_harness import copy_warehouse, merge_load, run_dbt

pytestmark = pytest.mark.slow

BATCHES = 4
INCREMENTAL = ["int_web_sessions", "fct_orders", "fct_ad_spend_daily"]
COMPARED = ("intermediate.int_web_sessions", "marts.fct_orders", "marts.fct_ad_spend_daily", "marts.fct_web_sessions")
SELECT = ["--select", *(f"+{m}" for m in [*INCREMENTAL, "fct_web_sessions"])]
LOOKBACK = "{incremental_lookback_hours: 1}"  # loads are a day apart: only the newest load is reprocessed
TIME_COLUMNS = {
    "crm_customers": "signed_up_at",
    "crm_products": None,
    "crm_orders": "ordered_at",
    "crm_loyalty_events": "occurred_at",
    "ga4_events": "event_timestamp",
    "google_ads_campaign_stats": "segments_date",
    "meta_ads_insights": "date_start",
}


def _window(table: pa.Table, column: str | None) -> np.ndarray:
    """Batch number (0..BATCHES-1) of each row, from its day in the data's window."""
    if column is None:
        return np.zeros(table.num_rows, dtype=int)
    values = table[column]
    if pa.types.is_integer(values.type):
        days = (values.to_numpy() / 1e6 - XS.start.timestamp()) / 86_400
    elif pa.types.is_date(values.type):
        days = (values.cast(pa.int32()).to_numpy() - (XS.start.date() - datetime(1970, 1, 1).date()).days).astype(float)
    else:
        days = (values.cast(pa.int64()).to_numpy() / 1e6 - XS.start.timestamp()) / 86_400
    return np.clip((days * BATCHES // XS.size.days).astype(int), 0, BATCHES - 1)


def _loads(tables: dict[str, pa.Table]) -> list[dict[str, pa.Table]]:
    windows = {name: _window(tables[name], col) for name, col in TIME_COLUMNS.items()}
    order_window = dict(zip(tables["crm_orders"]["order_id"].to_pylist(), windows["crm_orders"], strict=True))
    line_orders = tables["crm_order_lines"]["order_id"].to_pylist()
    windows["crm_order_lines"] = np.array([order_window[o] for o in line_orders])
    rng = np.random.default_rng(3)
    late = rng.random(tables["ga4_events"].num_rows) < 0.05  # delivered one load late
    windows["ga4_events"] = np.minimum(windows["ga4_events"] + late, BATCHES - 1)
    loads = [
        {name: table.filter(pa.array(windows[name] == k)) for name, table in tables.items()} for k in range(BATCHES)
    ]
    for k in range(1, BATCHES):
        previous = loads[k - 1]
        orders = previous["crm_orders"].slice(0, 5)  # re-delivered: refunded later
        orders = orders.set_column(orders.schema.get_field_index("status"), "status", pa.array(["refunded"] * 5))
        bumped = pc.add(orders["updated_at"], pa.scalar(timedelta(days=20), pa.duration("us")))
        orders = orders.set_column(orders.schema.get_field_index("updated_at"), "updated_at", bumped)
        loads[k]["crm_orders"] = pa.concat_tables([loads[k]["crm_orders"], orders])
        ads = previous["meta_ads_insights"].slice(previous["meta_ads_insights"].num_rows - 5)  # restated day
        ads = ads.set_column(ads.schema.get_field_index("spend"), "spend", pc.multiply(ads["spend"], 1.1))
        loads[k]["meta_ads_insights"] = pa.concat_tables([loads[k]["meta_ads_insights"], ads])
    # A new CRM record with a smaller id and the email of a customer who already has orders: keys must move.
    buyer = tables["crm_orders"]["customer_id"][0].as_py()
    record = tables["crm_customers"].filter(pc.equal(tables["crm_customers"]["customer_id"], buyer))
    record = record.set_column(0, "customer_id", pa.array(["C0000000"]))
    loads[-1]["crm_customers"] = pa.concat_tables([loads[-1]["crm_customers"], record])
    return loads


def _rows(warehouse: Path, table: str) -> list[tuple]:
    with duckdb.connect(str(warehouse)) as con:  # dbt in-process may hold it read-write
        return con.execute(f"select * from {table} order by all").fetchall()


def test_incremental_runs_equal_a_full_refresh(tmp_path: Path, xs_tables: dict[str, pa.Table]) -> None:
    incremental, full = tmp_path / "incremental", tmp_path / "full"
    incremental.mkdir()
    run_dbt(incremental, "seed")
    first_load = datetime(2026, 11, 1, tzinfo=UTC)
    for k, load in enumerate(_loads(xs_tables)):
        merge_load(incremental / "warehouse.duckdb", load, f"load-{k}", first_load + timedelta(days=k))
        run_dbt(incremental, "run", *SELECT, "--vars", LOOKBACK)
    copy_warehouse(incremental, full)
    run_dbt(full, "run", "--full-refresh", *SELECT)

    with duckdb.connect(str(full / "warehouse.duckdb")) as con:
        assert con.execute("select count(*) from marts.fct_orders where order_status = 'refunded'").fetchall()[0][0] > 0
        (merged,) = con.execute(
            "select count(*) from marts.fct_orders where customer_key = md5('C0000000')"
        ).fetchall()[0]
        assert merged > 0  # the re-keyed customer's old orders moved to the new key
    for table in COMPARED:
        expected, actual = _rows(full / "warehouse.duckdb", table), _rows(incremental / "warehouse.duckdb", table)
        assert len(actual) == len(expected), table
        assert actual == expected, f"{table}: incremental differs from full refresh"
