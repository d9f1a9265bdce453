"""Blocking asset checks: every GX suite in expectations/ gates its dataset (raw batches and marts)."""

from datetime import UTC, datetime
from types import ModuleType
from typing import TYPE_CHECKING

import dagster as dg

from orchestration.as_of import run_as_of_date
from orchestration.config import Settings
from orchestration.extract.dlt_sources import expected_location
from orchestration.extract.fx_rates import known_currencies
from orchestration.quality.gate import GateContext, run_gate
from orchestration.quality.suites import suite_modules

if TYPE_CHECKING:
    from orchestration.quality.gx_validation import SuiteOutcome


def outcome_metadata(outcome: "SuiteOutcome") -> dict[str, dg.MetadataValue]:
    failures = [
        {
            "expectation": f.expectation,
            "column": f.column,
            "errored": f.errored,
            "detail": f.detail,
            "why": f.description,
            "sample_bad_values": [str(v) for v in f.sample_bad_values],
        }
        for f in outcome.failures
    ]
    judged = {"delivery": dg.MetadataValue.text(outcome.note)} if outcome.note else {}
    return {
        **judged,
        "suite": dg.MetadataValue.text(outcome.suite),
        "rows_validated": dg.MetadataValue.int(outcome.rows),
        "expectations": dg.MetadataValue.int(len(outcome.outcomes)),
        "failed_expectations": dg.MetadataValue.int(len(failures)),
        "failures": dg.MetadataValue.json(failures),
    }


def _gx_gate(module: ModuleType, settings: Settings) -> dg.AssetChecksDefinition:
    schema, table = module.DATASET

    @dg.asset_check(
        asset=dg.AssetKey([schema, table]),
        name=f"gx_{module.SUITE_NAME}",
        blocking=True,
        description=(module.__doc__ or "").strip(),
    )
    def _check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        try:
            as_of = run_as_of_date(context.run, settings)
            ctx = GateContext(
                now=datetime.now(UTC),
                as_of=as_of,
                required=settings.required_tables,
                freshness_days=settings.freshness_days,
                expected={table: expected_location(settings, table)} if schema == "raw" else {},
                currencies=tuple(known_currencies(settings.data_dir, settings.reporting_currency)),
            )
            outcome = run_gate(settings.warehouse_path, module, ctx)
        except Exception as exc:  # noqa: BLE001 - a check that errors is a failed check, with the error shown
            return dg.AssetCheckResult(
                passed=False, metadata={"error": dg.MetadataValue.text(f"{type(exc).__name__}: {exc}")}
            )
        return dg.AssetCheckResult(passed=outcome.success, metadata=outcome_metadata(outcome))

    return _check


def definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(asset_checks=[_gx_gate(module, settings) for module in suite_modules()])
