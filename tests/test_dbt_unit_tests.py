"""The dbt project's unit tests (SQL logic on hand-built fixtures): run here, in CI, and left out of the
pipeline's production builds (orchestration/transform/assets.py), as dbt's docs advise."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from orchestration.config import DBT_PROJECT_DIR
from tests.conftest import Baseline
from tests.dbt_harness import run_dbt


def test_every_dbt_unit_test_passes(xs_baseline: Baseline, tmp_path: Path) -> None:
    """On a copy of the clean XS run's warehouse: dbt reads the column types of each tested model's inputs there."""
    shutil.copyfile(xs_baseline.settings.warehouse_path, tmp_path / "warehouse.duckdb")
    run_dbt(tmp_path, "test", "--select", "test_type:unit")
    results = json.loads((tmp_path / "dbt_target" / "run_results.json").read_text())["results"]
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    assert manifest["unit_tests"], "no dbt unit test found"
    assert sorted((r["unique_id"], r["status"]) for r in results) == [
        (u, "pass") for u in sorted(manifest["unit_tests"])
    ]
