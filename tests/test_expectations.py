"""GX suites construct completely; the gate runner streams chunks, computes table metrics in DuckDB, and treats an
expectation that errors as failed."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType

import duckdb
import pandas as pd
import pytest

from expectations import _rules, raw_crm_orders, raw_crm_products
from orchestration.config import EXPECTATIONS_DIR
from orchestration.extract.ledger import DDL as LEDGER_DDL
from orchestration.extract.raw_contract import RAW_TABLES
from orchestration.quality.gate import GateContext, build_suites, parameters, run_gate
from orchestration.quality.gx_validation import gx_suite, validate_dataframe
from orchestration.quality.suites import suite_modules

CTX = GateContext(now=datetime(2026, 11, 22, 12, tzinfo=UTC), as_of=date(2026, 1, 3), currencies=("EUR", "GBP", "USD"))


def _orders(n: int = 3, load_id: str = "L2") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": [f"O{i}" for i in range(n)],
            "customer_id": ["C1"] * n,
            "ordered_at": pd.to_datetime(["2026-01-02"] * n, utc=True),
            "currency": ["USD"] * n,
            "order_total": [10.0] * n,
            "status": ["completed"] * n,
            "updated_at": pd.to_datetime(["2026-01-02"] * n, utc=True),
            "_load_id": [load_id] * n,
        }
    )


def _warehouse(
    path: Path, orders: pd.DataFrame, history: list[int] = (), published: set[str] = frozenset(), collapsed: int = 0
) -> Path:
    """raw.crm_orders holding `orders`; the ledger has one row per load id in them (published if in `published`,
    the newest one with `collapsed` extra extracted rows) plus `history`: earlier published daily loads of those
    sizes, one per day up to the day before the batch's orders (their rows are in raw too)."""
    past = [
        _orders(rows, f"L0-{i}").assign(
            order_id=lambda o, i=i: o["order_id"] + f"-h{i}",
            ordered_at=pd.Timestamp("2026-01-01", tz="UTC") - pd.Timedelta(days=len(history) - 1 - i),
        )
        for i, rows in enumerate(history)
    ]
    raw = pd.concat([*past, orders]) if past else orders  # noqa: F841 (read by DuckDB below)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw")
        con.execute("create table raw.crm_orders as select * from raw")
        con.execute(LEDGER_DDL)
        for i, rows in enumerate(history):
            con.execute(
                "insert into audit.loads values (?, 'crm', 'crm_orders', ?, ?, now(), now(), null, 0, 'snapshot')",
                [f"L0-{i}", rows, rows],
            )
        load_ids = sorted(set(orders["_load_id"])) if len(orders) else []
        for load_id in load_ids:
            rows = int((orders["_load_id"] == load_id).sum())
            extra = collapsed if load_id == load_ids[-1] else 0
            published_at = "now()" if load_id in published else "null"
            con.execute(
                "insert into audit.loads values "
                f"(?, 'crm', 'crm_orders', ?, ?, now(), {published_at}, null, 0, 'snapshot')",
                [load_id, rows + extra, rows],
            )
    return path


def test_every_suite_is_discovered_with_its_full_expectation_count() -> None:
    """Every raw table and every module in expectations/ is a suite, and each suite holds every rule its module
    declares (an ExpectationSuite only logs when an expectation fails to construct, and drops it)."""
    modules = suite_modules()
    names = [m.SUITE_NAME for m in modules]
    assert len(names) == len(set(names))
    declared = [p.name for p in EXPECTATIONS_DIR.glob("*.py") if not p.name.startswith("_")]
    # A suite is a module, or an object a module builds (one generic ad-report suite per declared ad platform).
    defined_in = {(m.__name__ if isinstance(m, ModuleType) else type(m).__module__).rsplit(".", 1)[1] for m in modules}
    assert sorted(f"{name}.py" for name in defined_in) == sorted(declared)
    for module in modules:
        row_suite, table_suite = build_suites(module)
        quarantine_rule = 1 if module.SCOPE == "unpublished_loads" else 0  # added to every raw suite
        expected = (len(module.row_rules()), len(module.table_rules()) + quarantine_rule)
        assert (len(row_suite.expectations), len(table_suite.expectations)) == expected, module.SUITE_NAME
        assert all(expected), module.SUITE_NAME


def test_every_rule_is_an_expectation_gx_accepts_as_declared() -> None:
    """The gates evaluate the rules without importing GX: GX's own classes must accept every one as it stands (type,
    arguments, parameters), and serialise it back to the same type, kwargs, meta and description."""
    for module in suite_modules():
        for suite in build_suites(module):
            built = gx_suite(suite)
            assert [e.expectation_type for e in built.expectations] == [e.type for e in suite.expectations]
            for ours, theirs in zip(suite.expectations, built.expectations, strict=True):
                serialised = theirs.configuration.to_json_dict()
                assert (serialised["kwargs"], serialised["meta"], serialised["description"]) == (
                    ours.kwargs,
                    ours.meta,
                    ours.description,
                ), (suite.name, ours.type, ours.column)


def test_a_gate_runs_without_importing_gx(tmp_path: Path) -> None:
    """GX costs 7-13 s to import: a run evaluates its suites in DuckDB and must not pay that. A fresh interpreter
    loads the code location, builds every suite and runs a gate that fails a row rule."""
    new = _orders(3, "L3")
    new.loc[1, "customer_id"] = None
    warehouse = _warehouse(tmp_path / "w.duckdb", new, history=[3, 3, 3], published=set())
    script = f"""
import sys
from datetime import UTC, date, datetime
from expectations import raw_crm_orders
from orchestration.definitions import defs
from orchestration.quality.gate import GateContext, build_suites, run_gate
from orchestration.quality.suites import suite_modules
defs()
[build_suites(module) for module in suite_modules()]
ctx = GateContext(now=datetime(2026, 11, 22, 12, tzinfo=UTC), as_of=date(2026, 1, 3), currencies=("USD",))
outcome = run_gate({str(warehouse)!r}, raw_crm_orders, ctx)
print([(f.column, f.unexpected_count) for f in outcome.failures])
print(sorted(name for name in sys.modules if name.startswith("great_expectations")))
"""
    env = {**os.environ, "C360_DATA_DIR": str(tmp_path / "data")}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env)
    assert result.stdout.splitlines() == ["[('customer_id', 1)]", "[]"]


def test_every_expectation_says_why_it_exists() -> None:
    for module in suite_modules():
        for suite in build_suites(module):
            for expectation in suite.expectations:
                assert expectation.description and len(expectation.description) > 20, expectation.type


def test_row_rules_hold_no_table_level_expectations() -> None:
    """Row rules run per chunk: a row-count or aggregate rule there would judge each chunk, not the batch."""
    for module in suite_modules():
        row_suite, _ = build_suites(module)
        for expectation in row_suite.expectations:
            assert expectation.type.startswith("expect_column_values") or (
                expectation.type == "expect_table_columns_to_match_set"
            ), (module.SUITE_NAME, expectation.type)


def test_every_gated_raw_table_and_published_mart_has_a_suite() -> None:
    datasets = {m.DATASET for m in suite_modules()}
    assert {("raw", t.name) for t in RAW_TABLES} <= datasets
    assert {
        ("marts", name)
        for name in ("mart_customer_360", "mart_rfm", "mart_clv", "mart_loyalty", "mart_marketing_performance")
    } <= datasets


@pytest.mark.parametrize(
    ("column", "value", "failing_expectation"),
    [
        ("customer_id", None, "expect_column_values_to_not_be_null"),
        ("order_total", -1.0, "expect_column_values_to_be_between"),
        ("currency", "XXX", "expect_column_values_to_match_regex"),
        ("status", "cancelled", "expect_column_values_to_be_in_set"),
        ("order_id", " ", "expect_column_values_to_match_regex"),
    ],
)
def test_each_bad_value_fails_exactly_its_row_rule(column: str, value: object, failing_expectation: str) -> None:
    frame = _orders()
    frame.loc[1, column] = value
    row_suite, _ = build_suites(raw_crm_orders)
    outcome = validate_dataframe(frame, row_suite, parameters(raw_crm_orders, CTX, []))
    assert [(f.expectation, f.column) for f in outcome.failures] == [(failing_expectation, column)]
    assert not outcome.failures[0].errored


def test_currency_case_and_spaces_are_accepted_because_staging_normalises_them() -> None:
    frame = _orders()
    frame["currency"] = ["usd", " EUR", "gbp "]
    row_suite, _ = build_suites(raw_crm_orders)
    assert validate_dataframe(frame, row_suite, parameters(raw_crm_orders, CTX, [])).success


def test_expectation_that_raises_is_a_failure_not_a_pass() -> None:
    """A missing column makes the column rules raise inside GX; they must count as failed (errored)."""
    row_suite, _ = build_suites(raw_crm_orders)
    outcome = validate_dataframe(_orders().drop(columns=["currency"]), row_suite, parameters(raw_crm_orders, CTX, []))
    assert not outcome.success
    errored = [f for f in outcome.failures if f.errored]
    assert [(f.expectation, f.column) for f in errored] == [("expect_column_values_to_match_regex", "currency")]
    assert "currency" in errored[0].detail


def test_gate_validates_every_unpublished_load(tmp_path: Path) -> None:
    published = _orders(2, "L1").assign(order_total=-5.0)  # bad rows a publish already judged are not re-judged
    rejected = _orders(2, "L2")
    rejected["order_id"] = ["R0", "R1"]
    rejected.loc[1, "customer_id"] = None  # an earlier load that failed its gate is judged again (fail-closed)
    new = _orders(5, "L3")
    new.loc[3, "customer_id"] = None
    new.loc[4, "customer_id"] = None
    warehouse = _warehouse(
        tmp_path / "w.duckdb", pd.concat([published, rejected, new]), history=[7, 7, 7], published={"L1"}
    )
    outcome = run_gate(warehouse, raw_crm_orders, CTX)
    assert outcome.rows == 7
    assert [(f.column, f.unexpected_count) for f in outcome.failures] == [("customer_id", 3)]


def test_empty_delivery_fails_instead_of_rejudging_old_data(tmp_path: Path) -> None:
    warehouse = _warehouse(tmp_path / "w.duckdb", _orders(3, "L1"), published={"L1"})
    with duckdb.connect(str(warehouse)) as con:  # today's extract read an empty file: a ledger row, no raw rows
        con.execute(
            "insert into audit.loads values ('L2', 'crm', 'crm_orders', 0, 0, now(), null, null, 0, 'snapshot')"
        )
    outcome = run_gate(warehouse, raw_crm_orders, CTX)
    assert outcome.rows == 0
    assert ("expect_column_values_to_be_between", "row_count") in {(f.expectation, f.column) for f in outcome.failures}


def test_rows_collapsed_by_the_merge_fail_the_gate(tmp_path: Path) -> None:
    """The delivery had 6 rows but raw holds 5 under its load id: two rows shared a key and were folded."""
    outcome = run_gate(_warehouse(tmp_path / "w.duckdb", _orders(5), collapsed=1), raw_crm_orders, CTX)
    assert [(f.column, f.sample_bad_values) for f in outcome.failures] == [("rows_collapsed_by_key", [1])]


def test_volume_spike_and_duplicates_fail_table_rules(tmp_path: Path) -> None:
    batch = _orders(100)
    batch.loc[1, "order_id"] = "O0"
    # Published days of 30, 30, 25 and 30 orders: the 3 days before the newest published one give a median of 30 a
    # day; band x3 -> 100 orders on the batch's newest day is a spike.
    warehouse = _warehouse(tmp_path / "w.duckdb", batch, history=[30, 30, 25, 30])
    outcome = run_gate(warehouse, raw_crm_orders, CTX)
    failed = {(f.expectation, f.column) for f in outcome.failures}
    assert failed == {
        ("expect_column_values_to_be_between", "newest_day_rows"),
        ("expect_column_values_to_be_between", "duplicate_order_ids"),
    }


def test_future_and_stale_timestamps_fail(tmp_path: Path) -> None:
    batch = _orders(3)
    batch["ordered_at"] = pd.to_datetime(["2025-06-01", "2025-06-01", "2027-01-01"], utc=True)
    outcome = run_gate(_warehouse(tmp_path / "w.duckdb", batch), raw_crm_orders, CTX)
    assert {f.column for f in outcome.failures} == {"max_ordered_at"}  # not-in-future fails (2027 > now)
    batch["ordered_at"] = pd.to_datetime(["2025-06-01"] * 3, utc=True)  # newest order 7 months before as-of
    outcome = run_gate(_warehouse(tmp_path / "w2.duckdb", batch), raw_crm_orders, CTX)
    assert {f.column for f in outcome.failures} == {"max_ordered_at"}  # freshness fails
    assert outcome.failures[0].detail.startswith("unexpected_count=1")


def test_suites_with_a_freshness_rule_declare_their_window() -> None:
    for module in suite_modules():
        _, table_suite = build_suites(module)
        uses_fresh = any(_rules.FRESH_AFTER in str(e.kwargs) for e in table_suite.expectations)
        assert uses_fresh == bool(module.FRESHNESS_DAYS), module.SUITE_NAME


def test_first_load_has_no_volume_band() -> None:
    params = parameters(raw_crm_orders, CTX, recent_rows=[])
    assert (params[_rules.VOLUME_MIN], params[_rules.VOLUME_MAX]) == (0, None)
    params = parameters(raw_crm_orders, CTX, recent_rows=[90, 100, 120])
    assert (params[_rules.VOLUME_MIN], params[_rules.VOLUME_MAX]) == (100 / 3, 300)
    # Per-day volume of a quiet table: below MIN_DAILY_ROWS_FOR_BAND a day's count is mostly chance, so no band.
    quiet = parameters(raw_crm_orders, CTX, recent_rows=[9, 12, 10])
    assert (quiet[_rules.VOLUME_MIN], quiet[_rules.VOLUME_MAX]) == (0, None)
    snapshot = parameters(raw_crm_products, CTX, recent_rows=[9, 12, 10])  # a snapshot table: judged at any size
    assert (snapshot[_rules.VOLUME_MIN], snapshot[_rules.VOLUME_MAX]) == (10 / 2, 20)
    assert params[_rules.FRESH_AFTER] == pd.Timestamp("2026-01-01", tz="UTC")


def test_a_delta_may_be_empty_and_is_banded_only_per_day() -> None:
    """An export must have rows; a delta read from a database cursor may not (nothing changed). A snapshot table's
    delta gets no band (its size says how much changed); a daily table keeps its per-day band."""
    assert parameters(raw_crm_products, CTX, recent_rows=[9, 12, 10])[_rules.MIN_ROWS] == 1
    delta = parameters(raw_crm_products, CTX, recent_rows=[9, 12, 10], delta=True)
    assert (delta[_rules.MIN_ROWS], delta[_rules.VOLUME_MIN], delta[_rules.VOLUME_MAX]) == (0, 0, None)
    daily = parameters(raw_crm_orders, CTX, recent_rows=[90, 100, 120], per_day=True, delta=True)
    assert (daily[_rules.MIN_ROWS], daily[_rules.VOLUME_MIN], daily[_rules.VOLUME_MAX]) == (0, 100 / 3, 300)
