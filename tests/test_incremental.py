"""Incremental facts over daily deliveries equal one full refresh, including late, re-delivered and re-keyed rows.

The deliveries are the generator's own: the initial XS dataset, then its daily increments 1..DAYS (each carries the
day's new rows, GA4 events of earlier days delivered late, orders re-delivered when refunded, and restated ad days).
On top, the last increment carries a new CRM record with a smaller id and the email of a customer who already has
orders, so the resolved customer_key of old orders and sessions changes (removing fct_orders' key-change rule makes
this test fail), and a late GA4 event five minutes before a device's first event, so that device's first session
gets a new first event and key and the old key must disappear from fct_web_sessions (removing its pre-hook makes
this test fail). Every incremental model and the marts built on them are compared with a full refresh on the same
raw data, EXCEPT ALL both ways.
"""

from __future__ import annotations

from dataclasses import dataclass
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
INCREMENTAL = [
    "int_web_sessions",
    "fct_orders",
    "fct_order_lines",
    "fct_ad_spend_daily",
    "fct_web_sessions",
    "fct_loyalty_events",
]
DOWNSTREAM = ["mart_marketing_performance"]  # reads fct_web_sessions, fct_orders, fct_ad_spend_daily
COMPARED = (
    "intermediate.int_web_sessions",
    "marts.fct_orders",
    "marts.fct_order_lines",
    "marts.fct_ad_spend_daily",
    "marts.fct_web_sessions",
    "marts.fct_loyalty_events",
    "marts.mart_marketing_performance",
)
SELECT = ["--select", *(f"+{m}" for m in [*INCREMENTAL, *DOWNSTREAM])]
LOOKBACK = "{incremental_lookback_hours: 1}"  # loads are a day apart: only the newest load is reprocessed
MERGED_ID = "C0000000"
LATE_EVENT_ID = "late-before-first-event"


def _deliveries(initial: dict[str, pa.Table]) -> list[dict[str, pa.Table]]:
    """The initial dataset and increments 1..DAYS; the last one also re-keys an existing buyer (see module doc)."""
    deliveries = [initial, *(generate(XS, increment=n) for n in range(1, DAYS + 1))]
    customers = initial["crm_customers"]
    buyer = initial["crm_orders"]["customer_id"][0].as_py()
    record = customers.filter(pc.equal(customers["customer_id"], buyer))
    record = record.set_column(0, "customer_id", pa.array([MERGED_ID]))
    last = deliveries[-1]["crm_customers"]
    deliveries[-1]["crm_customers"] = pa.concat_tables([last, record.cast(last.schema)])
    deliveries[-1]["ga4_events"] = pa.concat_tables([deliveries[-1]["ga4_events"], _before_first_event(initial)])
    return deliveries


def _first_event(initial: dict[str, pa.Table]) -> dict:
    """The earliest GA4 event of the initial delivery (its device's first event)."""
    events = initial["ga4_events"]
    return events.take([pc.index(events["event_timestamp"], pc.min(events["event_timestamp"])).as_py()]).to_pylist()[0]


def _before_first_event(initial: dict[str, pa.Table]) -> pa.Table:
    """A page view of the same device and traffic, delivered late, five minutes before the device's first event."""
    event = _first_event(initial)
    late = {**event, "event_id": LATE_EVENT_ID, "event_name": "page_view", "transaction_id": None}
    late["event_timestamp"] = event["event_timestamp"] - 5 * 60 * 1_000_000
    return pa.Table.from_pylist([late], schema=initial["ga4_events"].schema)


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


def _table(warehouse: Path, table: str) -> pa.Table:
    with duckdb.connect(str(warehouse)) as con:  # dbt in-process may hold it read-write, so no ATTACH of both
        return con.sql(f"select * from {table}").to_arrow_table()


def _differences(incremental: Path, full: Path, table: str) -> tuple[int, int, int]:
    """(rows, rows only in the incremental table, rows only in the full refresh), as multisets (EXCEPT ALL)."""
    with duckdb.connect() as con:
        con.register("incremental_rows", _table(incremental, table))
        con.register("full_rows", _table(full, table))
        only = [
            con.execute(f"select count(*) from (select * from {a} except all select * from {b})").fetchone()[0]
            for a, b in (("incremental_rows", "full_rows"), ("full_rows", "incremental_rows"))
        ]
        return con.execute("select count(*) from incremental_rows").fetchone()[0], *only


def _sessions_starting_with(warehouse: Path, event: dict) -> int:
    """fct_web_sessions rows whose session starts with `event` (session_key = HMAC(key, device|first event id))."""
    session_key = pseudonym(f"{event['user_pseudo_id']}|{event['event_id']}", TEST_PII_KEY.encode())
    with duckdb.connect(str(warehouse)) as con:
        return con.execute(
            "select count(*) from marts.fct_web_sessions where session_key = ?", [session_key]
        ).fetchone()[0]


@dataclass(frozen=True)
class Built:
    """The same raw data built two ways: by incremental runs after each delivery, and by one full refresh."""

    incremental: Path
    full: Path
    refunded_later: set
    first_event: dict


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, xs_tables: dict[str, pa.Table]) -> Built:
    deliveries = _deliveries(xs_tables)
    # The increments really carry what the incremental logic must handle.
    assert _late_events(deliveries) > 0
    refunded_later = _redelivered(deliveries, "crm_orders", "order_id")
    assert refunded_later and _redelivered(deliveries, "google_ads_campaign_stats", "segments_date")

    root = tmp_path_factory.mktemp("incremental")
    incremental, full = root / "incremental", root / "full"
    incremental.mkdir()
    run_dbt(incremental, "seed")
    first_load = datetime(2026, 11, 1, tzinfo=UTC)
    first_event = _first_event(xs_tables)
    for k, delivery in enumerate(deliveries):
        merge_load(incremental / "warehouse.duckdb", delivery, f"load-{k}", first_load + timedelta(days=k))
        run_dbt(incremental, "run", *SELECT, "--vars", LOOKBACK)
        if k == DAYS - 1:  # the session the late event re-keys is there before its last delivery
            assert _sessions_starting_with(incremental / "warehouse.duckdb", first_event) == 1
    copy_warehouse(incremental, full)
    run_dbt(full, "run", "--full-refresh", *SELECT)
    return Built(incremental / "warehouse.duckdb", full / "warehouse.duckdb", refunded_later, first_event)


def test_incremental_runs_equal_a_full_refresh(built: Built) -> None:
    with duckdb.connect(str(built.full)) as con:
        statuses = con.execute(
            "select distinct order_status from marts.fct_orders where list_contains(?, order_id)",
            [sorted(built.refunded_later)],
        ).fetchall()
        assert statuses == [("refunded",)]
        (merged,) = con.execute(
            "select count(*) from marts.fct_orders where customer_key = ?",
            [pseudonym(MERGED_ID, TEST_PII_KEY.encode())],
        ).fetchall()[0]
        assert merged > 0  # the re-keyed customer's old orders moved to the new key
        (merged_entries,) = con.execute(
            "select count(*) from marts.fct_loyalty_events where customer_key = ?",
            [pseudonym(MERGED_ID, TEST_PII_KEY.encode())],
        ).fetchone()
        assert merged_entries > 0  # and so did their loyalty ledger
    assert _sessions_starting_with(built.full, built.first_event) == 0
    assert _sessions_starting_with(built.full, {**built.first_event, "event_id": LATE_EVENT_ID}) == 1
    # (rows, rows only in the incremental table, rows only in the full refresh) per table
    differences = {table: _differences(built.incremental, built.full, table) for table in COMPARED}
    assert all(rows > 0 for rows, _, _ in differences.values()), differences
    assert {t: d for t, d in differences.items() if d[1:] != (0, 0)} == {}
