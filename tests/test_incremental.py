"""Incremental facts over daily deliveries equal one full refresh, including late, re-delivered and re-keyed rows.

The deliveries are the generator's own: the initial XS dataset, then its daily increments 1..DAYS (each carries the
day's new rows, GA4 events of earlier days delivered late, orders re-delivered when refunded, and restated ad days).
On top, the last increment carries a new CRM record with a smaller id and the email of a customer who already has
orders, so the resolved customer_key of old orders and sessions changes; removing fct_orders' key-change rule makes
this test fail.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from orchestration.pseudonyms import pseudonym
from simulator.retailer import generate
from tests.conftest import TEST_PII_KEY, XS
from tests.dbt_harness import copy_warehouse, merge_load, run_dbt

pytestmark = pytest.mark.slow

DAYS = 4  # XS's first order re-delivered refunded arrives in increment 4
INCREMENTAL = ["int_web_sessions", "fct_orders", "fct_ad_spend_daily"]
COMPARED = ("intermediate.int_web_sessions", "marts.fct_orders", "marts.fct_ad_spend_daily", "marts.fct_web_sessions")
SELECT = ["--select", *(f"+{m}" for m in [*INCREMENTAL, "fct_web_sessions"])]
LOOKBACK = "{incremental_lookback_hours: 1}"  # loads are a day apart: only the newest load is reprocessed
MERGED_ID = "C0000000"


def _deliveries(initial: dict[str, pa.Table]) -> list[dict[str, pa.Table]]:
    """The initial dataset and increments 1..DAYS; the last one also re-keys an existing buyer (see module doc)."""
    deliveries = [initial, *(generate(XS, increment=n) for n in range(1, DAYS + 1))]
    customers = initial["crm_customers"]
    buyer = initial["crm_orders"]["customer_id"][0].as_py()
    record = customers.filter(pc.equal(customers["customer_id"], buyer))
    record = record.set_column(0, "customer_id", pa.array([MERGED_ID]))
    last = deliveries[-1]["crm_customers"]
    deliveries[-1]["crm_customers"] = pa.concat_tables([last, record.cast(last.schema)])
    return deliveries


def _redelivered(deliveries: list[dict[str, pa.Table]], table: str, key: str) -> set:
    """Keys of the increments' rows that an earlier delivery already carried (updated or restated in place)."""
    seen, again = set(), set()
    for delivery in deliveries:
        keys = set(delivery[table][key].to_pylist())
        again |= keys & seen
        seen |= keys
    return again


def _late_events(deliveries: list[dict[str, pa.Table]]) -> int:
    """GA4 events delivered on a later day than the one they happened on."""
    late = 0
    for n, delivery in enumerate(deliveries[1:], start=1):
        day = pc.cast(pc.cast(delivery["ga4_events"]["event_timestamp"], pa.timestamp("us", "UTC")), pa.date32())
        late += pc.sum(pc.less(day, pa.scalar(XS.end_date + timedelta(days=n)))).as_py()
    return late


def _rows(warehouse: Path, table: str) -> list[tuple]:
    with duckdb.connect(str(warehouse)) as con:  # dbt in-process may hold it read-write
        return con.execute(f"select * from {table} order by all").fetchall()


def test_incremental_runs_equal_a_full_refresh(tmp_path: Path, xs_tables: dict[str, pa.Table]) -> None:
    deliveries = _deliveries(xs_tables)
    # The increments really carry what the incremental logic must handle.
    assert _late_events(deliveries) > 0
    refunded_later = _redelivered(deliveries, "crm_orders", "order_id")
    assert refunded_later and _redelivered(deliveries, "google_ads_campaign_stats", "segments_date")

    incremental, full = tmp_path / "incremental", tmp_path / "full"
    incremental.mkdir()
    run_dbt(incremental, "seed")
    first_load = datetime(2026, 11, 1, tzinfo=UTC)
    for k, delivery in enumerate(deliveries):
        merge_load(incremental / "warehouse.duckdb", delivery, f"load-{k}", first_load + timedelta(days=k))
        run_dbt(incremental, "run", *SELECT, "--vars", LOOKBACK)
    copy_warehouse(incremental, full)
    run_dbt(full, "run", "--full-refresh", *SELECT)

    with duckdb.connect(str(full / "warehouse.duckdb")) as con:
        statuses = con.execute(
            "select distinct order_status from marts.fct_orders where list_contains(?, order_id)",
            [sorted(refunded_later)],
        ).fetchall()
        assert statuses == [("refunded",)]
        (merged,) = con.execute(
            "select count(*) from marts.fct_orders where customer_key = ?",
            [pseudonym(MERGED_ID, TEST_PII_KEY.encode())],
        ).fetchall()[0]
        assert merged > 0  # the re-keyed customer's old orders moved to the new key
    for table in COMPARED:
        expected, actual = _rows(full / "warehouse.duckdb", table), _rows(incremental / "warehouse.duckdb", table)
        assert len(actual) == len(expected), table
        assert actual == expected, f"{table}: incremental differs from full refresh"
