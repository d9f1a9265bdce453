"""Blocking asset checks: every GX suite in expectations/ gates its dataset (raw batches and marts)."""

from collections.abc import Iterator
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


#: The gates run as two steps, not one per suite: the raw batches' (before dbt) and the marts' (before publish). A
#: Dagster step has a fixed cost (its events, the event log's checkpoints, the executor's bookkeeping) near the ~50 ms
#: of work of a gate at XS: 18 steps -> 2 made an XS run ~1.6 s shorter (README, "Quality gates").
GATE_STEPS = {"raw": "gx_raw_gates", "marts": "gx_mart_gates"}


def _gate_result(module: ModuleType, settings: Settings, context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    """One suite's verdict on its dataset; a gate that errors is a failed check, with the error shown."""
    schema, table = module.DATASET
    check = {"asset_key": dg.AssetKey([schema, table]), "check_name": f"gx_{module.SUITE_NAME}"}
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
            **check, passed=False, metadata={"error": dg.MetadataValue.text(f"{type(exc).__name__}: {exc}")}
        )
    return dg.AssetCheckResult(**check, passed=outcome.success, metadata=outcome_metadata(outcome))


def _gx_gates(layer: str, modules: list[ModuleType], settings: Settings) -> dg.AssetChecksDefinition:
    """The blocking GX gates of one layer's datasets as one step; each suite keeps its own check (its result, its
    history in the UI), and a run that selects some of them runs only those."""
    by_check = {f"gx_{module.SUITE_NAME}": module for module in modules}
    specs = [
        dg.AssetCheckSpec(
            name=name,
            asset=dg.AssetKey(list(module.DATASET)),
            blocking=True,
            description=(module.__doc__ or "").strip(),
        )
        for name, module in by_check.items()
    ]

    @dg.multi_asset_check(specs=specs, name=GATE_STEPS[layer], can_subset=True)
    def _gates(context: dg.AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
        for key in sorted(context.selected_asset_check_keys, key=lambda key: key.name):
            yield _gate_result(by_check[key.name], settings, context)

    return _gates


def definitions(settings: Settings) -> dg.Definitions:
    layers: dict[str, list[ModuleType]] = {}
    for module in suite_modules():
        layers.setdefault(module.DATASET[0], []).append(module)
    return dg.Definitions(asset_checks=[_gx_gates(layer, modules, settings) for layer, modules in layers.items()])
