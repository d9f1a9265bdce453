"""Quarantine: rows that cannot be loaded go to audit.quarantine with file, row, column and reason; the rest loads;
extracted = loaded + quarantined; the same bad delivery twice adds no duplicate quarantine rows; the GX gate blocks a
delivery with more than 1% quarantined."""

from __future__ import annotations

import csv
import json
import os
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from expectations import _rules, raw_crm_orders
from orchestration.extract.fx_rates import FxCoverage
from orchestration.extract.ledger import DDL as LEDGER_DDL
from orchestration.extract.quarantine import UNKNOWN_CURRENCY, split
from orchestration.extract.raw_contract import raw_table
from orchestration.extract.vendor_files import read_files_delivery
from orchestration.quality.gate import GateContext, run_gate
from simulator.landing_writer import write_tables
from simulator.vendor_exports import write_files
from tests.extract_fixtures import Extract, failure_messages, settings_for

QUARANTINE = (
    "select raw_table, file, row_number, column_name, reason from audit.quarantine order by raw_table, row_number"
)


def _edit_csv(path: Path, edit) -> None:
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    edit(rows)
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)


@pytest.fixture()
def bad_files(tmp_path: Path, xs_tables: dict[str, pa.Table]) -> Extract:
    extract = Extract(settings_for(tmp_path, "files"))
    write_files(xs_tables, extract.settings.landing_dir)
    crm = extract.settings.landing_dir / "crm"

    def orders(rows: list[list[str]]) -> None:
        rows[2][5] = "abc"  # Total not a number
        rows[3][3] = "yesterday"  # Created at unparseable
        rows[4][4] = "XXX"  # currency without an FX rate
        rows[5][1] = ""  # Id (the key) missing
        rows[6] = rows[6][:4]  # a truncated row

    def lines(rows: list[list[str]]) -> None:
        rows[10][3] = "-2"  # negative quantity

    _edit_csv(crm / "orders.csv", orders)
    _edit_csv(crm / "order_lines.csv", lines)
    return extract


def test_bad_rows_are_quarantined_with_reasons_and_the_rest_loads(
    bad_files: Extract, xs_tables: dict[str, pa.Table]
) -> None:
    result = bad_files.run("crm")
    assert result.success, failure_messages(result)
    assert bad_files.query(QUARANTINE) == [
        ("crm_order_lines", "order_lines.csv", 11, "quantity", "negative quantity -2"),
        ("crm_orders", "orders.csv", 3, "order_total", "not a number: 'abc'"),
        ("crm_orders", "orders.csv", 4, "ordered_at", "unparseable timestamp: 'yesterday'"),
        (
            "crm_orders",
            "orders.csv",
            5,
            "currency",
            "unknown currency 'XXX': no FX rate (ECB reference rates or landing/fx_rates*.csv)",
        ),
        ("crm_orders", "orders.csv", 6, "order_id", "required value missing"),
        ("crm_orders", "orders.csv", 7, "*", "row has 4 fields, the header has 8"),
    ]
    orders, lines = xs_tables["crm_orders"].num_rows, xs_tables["crm_order_lines"].num_rows
    ledger = bad_files.ledger()
    assert ledger["crm_orders"] == (orders, orders - 5, 5)
    assert ledger["crm_order_lines"] == (lines, lines - 1, 1)
    assert all(e == lo + q for e, lo, q in ledger.values())
    assert all(q == 0 for t, (_, _, q) in ledger.items() if t not in ("crm_orders", "crm_order_lines"))
    assert bad_files.query("select count(*) from raw.crm_orders") == [(orders - 5,)]
    (record,) = bad_files.query("select record from audit.quarantine where row_number = 3 and raw_table = 'crm_orders'")
    assert json.loads(record[0])["Total"] == "abc"  # the record as delivered
    loads = bad_files.query("select count(distinct _load_id), count(distinct _loaded_at) from audit.quarantine")
    assert loads == [(1, 1)]  # both tables come from one crm extract: one load id and time


def test_the_same_bad_delivery_twice_keeps_one_quarantine_row_per_record(
    bad_files: Extract, xs_tables: dict[str, pa.Table]
) -> None:
    orders = xs_tables["crm_orders"].num_rows
    assert bad_files.run("crm").success
    first = bad_files.query("select quarantine_id, _load_id from audit.quarantine order by 1")
    for path in (bad_files.settings.landing_dir / "crm").glob("order*.csv"):
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000_000))  # exported again
    assert bad_files.run("crm").success
    second = bad_files.query("select quarantine_id, _load_id from audit.quarantine order by 1")
    assert [q for q, _ in second] == [q for q, _ in first]  # same rows, no duplicates
    latest = bad_files.query("select max(load_id) from audit.loads where table_name = 'crm_orders'")[0][0]
    assert {load for q, load in second if q in {q for q, _ in first}} >= {latest}  # now points at the newest load
    assert bad_files.ledger()["crm_orders"] == (orders, orders - 5, 5)  # each load keeps its own count
    assert bad_files.query("select count(*) from raw.crm_orders") == [(orders - 5,)]


def test_a_key_delivered_twice_keeps_the_later_row_and_quarantines_the_earlier(
    tmp_path: Path, xs_tables: dict[str, pa.Table]
) -> None:
    extract = Extract(settings_for(tmp_path, "files"))
    orders = xs_tables["crm_orders"]
    write_files({**xs_tables, "crm_orders": orders.slice(0, 1_000)}, extract.settings.landing_dir)
    late = orders.slice(999, 96).to_pylist()  # overlaps the first file by one order, which changed status
    late[0]["status"] = "refunded"
    write_files({"crm_orders": pa.Table.from_pylist(late, orders.schema)}, tmp_path / "late")
    (tmp_path / "late" / "crm" / "orders.csv").rename(extract.settings.landing_dir / "crm" / "orders_2.csv")
    assert extract.run("crm").success
    assert extract.query(QUARANTINE) == [
        (
            "crm_orders",
            "orders.csv",
            1_001,
            "order_id",
            "key delivered again later in this delivery (orders_2.csv row 2 wins)",
        )
    ]
    assert extract.query("select status from raw.crm_orders where order_id = 'O00001000'") == [("refunded",)]
    assert extract.ledger()["crm_orders"] == (1_000 + len(late), 999 + len(late), 1)  # extracted = loaded + quarantined


def test_the_synthetic_parquet_path_passes_the_same_rules(tmp_path: Path, xs_tables: dict[str, pa.Table]) -> None:
    orders = xs_tables["crm_orders"].to_pylist()
    orders[0]["currency"] = "xxx"
    orders[1]["currency"] = " eur "  # any case and spaces: convertible, staging normalises it
    orders[2]["order_id"] = None
    extract = Extract(settings_for(tmp_path, "synthetic"))
    # The generator declares the contract's required columns non-nullable, and Parquet cannot store a null in a
    # REQUIRED column; an upstream Parquet export with a missing key declares the column nullable, as here.
    schema = xs_tables["crm_orders"].schema.remove_metadata()
    schema = pa.schema([f.with_nullable(True) for f in schema])
    table = pa.Table.from_pylist(orders, schema)
    write_tables({**xs_tables, "crm_orders": table}, extract.settings.landing_dir, {})
    assert extract.run("crm").success
    assert extract.query(QUARANTINE) == [
        (
            "crm_orders",
            "crm_orders.parquet",
            1,
            "currency",
            "unknown currency 'xxx': no FX rate (ECB reference rates or landing/fx_rates*.csv)",
        ),
        ("crm_orders", "crm_orders.parquet", 3, "order_id", "required value missing"),
    ]
    assert extract.ledger()["crm_orders"] == (len(orders), len(orders) - 2, 2)
    assert extract.query("select currency from raw.crm_orders where order_id = ?", [orders[1]["order_id"]]) == [
        (" eur ",)  # loaded as delivered
    ]


def test_a_parquet_delivery_read_in_batches_knows_a_key_a_later_batch_delivers_again(
    tmp_path: Path, xs_tables: dict[str, pa.Table]
) -> None:
    """Batches of 100 rows: the order at row 5 is delivered again at row 250 (two batches on), so row 5 loses to it;
    the order at row 10 again at row 300 with a currency nobody converts, so row 300 is quarantined and row 10 loses
    to it all the same (a later version is never replaced by an older one): that key does not load at all."""
    orders = xs_tables["crm_orders"].slice(0, 400).to_pylist()
    changed, broken = dict(orders[4], status="refunded"), dict(orders[9], currency="XXX")
    orders[249], orders[299] = changed, broken
    settings = replace(settings_for(tmp_path, "synthetic"), extract_batch_rows=100)
    extract = Extract(settings)
    write_tables(
        {**xs_tables, "crm_orders": pa.Table.from_pylist(orders, xs_tables["crm_orders"].schema)},
        settings.landing_dir,
        {},
    )
    assert extract.run("crm").success
    superseded = "key delivered again later in this delivery (crm_orders.parquet row {} wins)"
    assert extract.query(QUARANTINE) == [
        ("crm_orders", "crm_orders.parquet", 5, "order_id", superseded.format(250)),
        ("crm_orders", "crm_orders.parquet", 10, "order_id", superseded.format(300)),
        ("crm_orders", "crm_orders.parquet", 300, "currency", UNKNOWN_CURRENCY.format(value="XXX")),
    ]
    assert extract.ledger()["crm_orders"] == (400, 397, 3)  # extracted = loaded + quarantined, over four batches
    loaded = dict(
        extract.query(
            "select order_id, status from raw.crm_orders where order_id in (?, ?)",
            [changed["order_id"], broken["order_id"]],
        )
    )
    assert loaded == {changed["order_id"]: "refunded"}


def _ledger_with(path: Path, extracted: int, quarantined: int) -> Path:
    now = datetime(2026, 1, 3, tzinfo=UTC)
    rows = extracted - quarantined
    orders = pa.table(
        {
            "order_id": [f"O{i}" for i in range(rows)],
            "customer_id": ["C1"] * rows,
            "ordered_at": pa.array([now] * rows, pa.timestamp("us", tz="UTC")),
            "currency": ["USD"] * rows,
            "order_total": [10.0] * rows,
            "status": ["completed"] * rows,
            "updated_at": pa.array([now] * rows, pa.timestamp("us", tz="UTC")),
            "_load_id": ["L1"] * rows,
        }
    )
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw")
        con.register("orders", orders)
        con.execute("create table raw.crm_orders as select * from orders")
        con.execute(LEDGER_DDL)
        con.execute(
            "insert into audit.loads (load_id, source, table_name, rows_extracted, rows_loaded, loaded_at, "
            "rows_quarantined) values ('L1', 'crm', 'crm_orders', ?, ?, now(), ?)",
            [extracted, rows, quarantined],
        )
    return path


@pytest.mark.parametrize(("quarantined", "passes"), [(0, True), (2, True), (3, False)])
def test_quarantine_rate_above_the_threshold_fails_the_gate(
    tmp_path: Path, quarantined: int, passes: bool, fx_coverage: FxCoverage
) -> None:
    """200 rows extracted: 2 quarantined is exactly 1% (allowed), 3 is 1.5% (a broken delivery)."""
    assert _rules.MAX_QUARANTINE_RATE == 0.01
    ctx = GateContext(
        now=datetime(2026, 1, 3, 12, tzinfo=UTC), as_of=date(2026, 1, 3), currencies=fx_coverage.currencies
    )
    outcome = run_gate(_ledger_with(tmp_path / "w.duckdb", 200, quarantined), raw_crm_orders, ctx)
    assert [f.column for f in outcome.failures] == ([] if passes else ["quarantine_rate"])


@pytest.mark.parametrize(
    ("table", "file", "column", "cell", "reason"),
    [
        ("crm_support_tickets", "tickets.csv", 9, "five", ("csat_score", "not an integer: 'five'")),
        ("crm_support_tickets", "tickets.csv", 1, "", ("customer_id", "required value missing")),
        ("crm_nps_responses", "nps_responses.csv", 3, "", ("score", "required value missing")),
        ("crm_consents", "consents.csv", 4, "soon", ("changed_at", "unparseable timestamp: 'soon'")),
    ],
)
def test_the_service_tables_quarantine_their_bad_rows_too(
    tmp_path: Path,
    xs_tables: dict[str, pa.Table],
    fx_coverage: FxCoverage,
    table: str,
    file: str,
    column: int,
    cell: str,
    reason: tuple,
) -> None:
    """Support tickets, NPS and consents (whose required columns the generator declares non-nullable) go through the
    same reader and rules as orders: one bad cell quarantines its row, the rest of the file loads."""
    write_files({table: xs_tables[table]}, tmp_path)
    _edit_csv(tmp_path / "crm" / file, lambda rows: rows[2].__setitem__(column, cell))
    good, rejects = split(read_files_delivery(tmp_path, raw_table(table)), raw_table(table), fx_coverage)
    assert [(r.file, r.row_number, r.column, r.reason) for r in rejects] == [(file, 3, *reason)]
    assert good.num_rows == xs_tables[table].num_rows - 1
    assert good.column_names[: len(raw_table(table).columns)] == [c.name for c in raw_table(table).columns]
