"""A daily increment after a full initial load: the gates judge it on the per-day scale and it publishes, and raw
grows by exactly the increment's new keys (re-delivered keys update in place)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from orchestration.extract.raw_contract import RAW_TABLES
from simulator.retailer import generate
from tests.conftest import XS, Baseline, copy_baseline

pytestmark = pytest.mark.slow


def _keys(table: pa.Table, key: tuple[str, ...]) -> set[tuple]:
    return set(zip(*(table[c].to_pylist() for c in key), strict=True))


def test_increment_after_initial_load_passes_the_gates_and_adds_its_new_keys(
    tmp_path: Path, xs_baseline: Baseline, xs_tables: dict[str, pa.Table]
) -> None:
    """The initial load is (a copy of) the session's clean XS run; the run under test is the daily increment."""
    increment = generate(XS, increment=1)
    with copy_baseline(xs_baseline, tmp_path) as ws:
        ws.land(increment, end_date=XS.end_date + timedelta(days=1))
        daily = ws.run()
        assert daily.success, daily.failed_steps
        failed = [(c.check, c.detail) for c in daily.checks if not c.passed]
        assert failed == [] and daily.published
        with duckdb.connect(str(ws.settings.warehouse_path), read_only=True) as con:
            for spec in RAW_TABLES:
                new = _keys(increment[spec.name], spec.primary_key) - _keys(xs_tables[spec.name], spec.primary_key)
                (rows,) = con.execute(f"select count(*) from raw.{spec.name}").fetchall()[0]
                assert rows == xs_tables[spec.name].num_rows + len(new), spec.name
            (restated,) = con.execute(
                "select count(*) from raw.google_ads_campaign_stats where _load_id = (select max(_load_id) "
                "from raw.google_ads_campaign_stats) and segments_date < ?",
                [XS.end_date],
            ).fetchall()[0]
    # The increment restated the two days before its newest one: those rows were updated in place, not added.
    key = ("segments_date", "campaign_id")
    redelivered = _keys(increment["google_ads_campaign_stats"], key) & _keys(
        xs_tables["google_ads_campaign_stats"], key
    )
    assert restated == len(redelivered) > 0
