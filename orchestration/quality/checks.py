"""Blocking asset checks that run each GX suite on the batch just loaded into its raw table."""

from types import ModuleType
from typing import TYPE_CHECKING

import dagster as dg
import duckdb
import pandas as pd

if TYPE_CHECKING:
    from orchestration.quality.gx_validation import SuiteOutcome

from orchestration.config import Settings
from orchestration.quality.suites import suite_modules


def latest_batch(warehouse_path: str, schema: str, table: str) -> pd.DataFrame:
    """Rows of the table's newest `_load_id` only: the gate judges what this run loaded, not history."""
    with duckdb.connect(warehouse_path, read_only=True) as con:
        return con.sql(
            f'select * from "{schema}"."{table}" where _load_id = (select max(_load_id) from "{schema}"."{table}")'
        ).df()


def outcome_metadata(outcome: "SuiteOutcome") -> dict[str, dg.MetadataValue]:
    failures = [
        {
            "expectation": f.expectation,
            "column": f.column,
            "errored": f.errored,
            "detail": f.detail,
            "sample_bad_values": [str(v) for v in f.sample_bad_values],
        }
        for f in outcome.failures
    ]
    return {
        "suite": dg.MetadataValue.text(outcome.suite),
        "rows_validated": dg.MetadataValue.int(outcome.rows),
        "expectations": dg.MetadataValue.int(len(outcome.outcomes)),
        "failed_expectations": dg.MetadataValue.int(len(failures)),
        "failures": dg.MetadataValue.json(failures),
    }


def _gx_gate(suite_module: ModuleType, settings: Settings) -> dg.AssetChecksDefinition:
    schema, table = suite_module.DATASET

    @dg.asset_check(
        asset=dg.AssetKey([schema, table]),
        name=f"gx_{suite_module.SUITE_NAME}",
        blocking=True,
        description=(suite_module.__doc__ or "").strip(),
    )
    def _check() -> dg.AssetCheckResult:
        from orchestration.quality.gx_validation import (
            validate_dataframe,
        )  # imports GX (slow) only when gating

        try:
            outcome = validate_dataframe(
                latest_batch(str(settings.warehouse_path), schema, table), suite_module.build_suite()
            )
        except Exception as exc:  # noqa: BLE001 - a check that errors is a failed check, with the error shown
            return dg.AssetCheckResult(
                passed=False, metadata={"error": dg.MetadataValue.text(f"{type(exc).__name__}: {exc}")}
            )
        return dg.AssetCheckResult(passed=outcome.success, metadata=outcome_metadata(outcome))

    return _check


def definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(asset_checks=[_gx_gate(module, settings) for module in suite_modules()])
