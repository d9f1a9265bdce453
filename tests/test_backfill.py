"""`c360 backfill` over the generator's daily increments (XS): days run in order from their dated delivery folders;
a failed day stops the range and the same command resumes there (days done are skipped, so a third call runs
nothing); the result equals a single run at the last date, by the figures of the generator's truth at that date.
The day's run is also the daily increment after a full initial load: its gates judge it on the per-day scale (it
publishes), and raw grows by exactly the increment's new keys (re-delivered keys update in place).

Cost: one daily run. The copy of the clean XS run is the day before, already published; the range's day arrives
broken (its run fails in its extract step in seconds), is fixed and resumed (the one full run), then skipped. First, a
two-day range starting at the broken day shows the order and the stop: its first day fails in seconds, the next is
not run.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow as pa
import pytest

from c360_cli.main import main
from orchestration.backfill import BACKFILL_TAG
from orchestration.extract.raw_contract import RAW_TABLES
from orchestration.publish.publisher import PUBLISH_LOG, published_tables
from orchestration.warehouse import connect_published
from simulator.landing_writer import write_tables
from simulator.retailer import generate, generate_with_truth
from tests.conftest import XS, Baseline, copy_baseline, expected_warehouse

DAYS = 1  # the day after the baseline's: one full run (see the module docstring)


def _dated_deliveries(folder: Path) -> dict[date, dict[str, pa.Table]]:
    """Increments 1..DAYS, each in <folder>/<its day>/ as `c360 generate --increment N --out` writes it."""
    days = {XS.end_date + timedelta(days=n): generate(XS, increment=n) for n in range(1, DAYS + 1)}
    for day, tables in days.items():
        write_tables(tables, folder / day.isoformat(), {"scale": "XS", "seed": 7, "end_date": day})
    return days


def _keys(table: pa.Table, key: tuple[str, ...]) -> set[tuple]:
    return set(zip(*(table[c].to_pylist() for c in key), strict=True))


def assert_raw_grew_by_the_new_keys(warehouse: Path, initial: dict[str, pa.Table], increment: dict[str, pa.Table]):
    """Raw holds the initial load plus exactly the increment's new keys; the two days the increment restated before
    its newest one were updated in place, not added."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for spec in RAW_TABLES:
            new = _keys(increment[spec.name], spec.primary_key) - _keys(initial[spec.name], spec.primary_key)
            (rows,) = con.execute(f"select count(*) from raw.{spec.name}").fetchall()[0]
            assert rows == initial[spec.name].num_rows + len(new), spec.name
        (restated,) = con.execute(
            "select count(*) from raw.google_ads_campaign_stats where _load_id = (select max(_load_id) "
            "from raw.google_ads_campaign_stats) and segments_date < ?",
            [XS.end_date],
        ).fetchall()[0]
    key = ("segments_date", "campaign_id")
    redelivered = _keys(increment["google_ads_campaign_stats"], key) & _keys(initial["google_ads_campaign_stats"], key)
    assert restated == len(redelivered) > 0


@pytest.mark.slow
def test_backfill_runs_days_in_order_resumes_after_a_failure_and_equals_a_run_at_the_last_date(
    tmp_path: Path,
    xs_baseline: Baseline,
    xs_tables: dict[str, pa.Table],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with copy_baseline(xs_baseline, tmp_path / "data") as ws:
        settings = ws.settings
    env = {"C360_DATA_DIR": str(settings.data_dir), "C360_SOURCE": "synthetic", "C360_SCALE": "XS"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    deliveries = tmp_path / "deliveries"
    [(last, increment)] = _dated_deliveries(deliveries).items()
    first = last
    orders = deliveries / last.isoformat() / "crm_orders.parquet"
    good = orders.read_bytes()
    orders.write_bytes(b"not parquet")  # the day's delivery arrives broken
    argv = ["backfill", "--from", first.isoformat(), "--to", last.isoformat(), "--deliveries", str(deliveries)]

    later_day = last + timedelta(days=1)
    (deliveries / later_day.isoformat()).mkdir()  # never landed: the range stops at its broken first day
    longer = ["backfill", "--from", last.isoformat(), "--to", later_day.isoformat(), "--deliveries", str(deliveries)]
    assert main(longer) == 1
    out = capsys.readouterr().out
    assert out.index(f"  {last}  FAILED by run") < out.index(f"  {later_day}  not run"), out

    assert main(argv) == 1
    out = capsys.readouterr().out
    failed_line = next(line for line in out.splitlines() if line.startswith(f"  {last}  FAILED by run"))
    assert "step extract_crm:" in out and "crm_orders.parquet" in out, out
    assert "run the same command again to resume at the failed day" in out
    assert "published by run" not in out, out

    orders.write_bytes(good)  # fixed upstream and redelivered
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"  {last}  published by run" in out and failed_line not in out, out  # every gate passed
    assert_raw_grew_by_the_new_keys(settings.warehouse_path, xs_tables, increment)

    assert main(argv) == 0  # idempotent: nothing left to run
    out = capsys.readouterr().out
    assert out.count("done before by run") == DAYS and "published by run" not in out, out

    instance = dg.DagsterInstance.from_config(str(settings.dagster_home))
    runs = instance.get_runs(filters=dg.RunsFilter(tags={BACKFILL_TAG: f"{first}..{last}"}))
    assert sorted((r.tags["c360/as_of_date"], r.tags["dagster/partition"], r.status.value) for r in runs) == [
        (last.isoformat(), last.isoformat(), "FAILURE"),
        (last.isoformat(), last.isoformat(), "SUCCESS"),
    ]  # each day is its partition of the daily job (the UI's partition view shows them)

    # The same as one run at the last date: the generator's dataset delivered by then, and its truth.
    later = replace(XS, end_date=last, anchor_date=XS.end_date)
    expected = expected_warehouse(*generate_with_truth(later))
    counts = published_tables(settings.published_path)
    assert counts["dim_customer"] == counts["mart_customer_360"] == expected.persons
    assert counts["fct_orders"] == len(expected.orders)
    assert counts["mart_rfm"] == expected.completed["person_id"].nunique()
    with connect_published(settings.published_path) as con:
        [(details,)] = con.execute(f"select details from {PUBLISH_LOG}").fetchall()
    assert json.loads(details)["as_of_date"] == last.isoformat()


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        ("2026-11-02", "2026-11-01", "--to 2026-11-01 is before --from 2026-11-02: give the earlier date first"),
        ("2026-11-01", "2026-11-03", "no delivery folder for 2026-11-02, 2026-11-03 in "),
        ("2014-12-31", "2026-11-01", "as-of date 2014-12-31 is before C360_PARTITION_START=2015-01-01, the daily job"),
    ],
)
def test_a_backfill_that_cannot_run_is_refused_in_one_line_before_any_run(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    first: str,
    last: str,
    expected: str,
) -> None:
    monkeypatch.setenv("C360_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "deliveries" / "2026-11-01").mkdir(parents=True)
    assert main(["backfill", "--from", first, "--to", last, "--deliveries", str(tmp_path / "deliveries")]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1 and expected in err, err
    assert dg.DagsterInstance.from_config(str(tmp_path / "data" / "dagster_home")).get_runs() == []
