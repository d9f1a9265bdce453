"""Run a Great Expectations 1.x suite on one batch and reduce the result to what a gate needs.

GX 1.x over DuckDB through SQLAlchemy reports every expectation as failed with a swallowed MetricResolutionError
(GX issues #10738, #11579), so batches are validated as pandas DataFrames. Any expectation that carries exception
info counts as failed, never passed: a check that errors is a failed check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import great_expectations as gx
import pandas as pd


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str
    column: str | None
    success: bool
    errored: bool
    detail: str
    sample_bad_values: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class SuiteOutcome:
    suite: str
    rows: int
    outcomes: list[ExpectationOutcome]

    @property
    def success(self) -> bool:
        return bool(self.outcomes) and all(o.success for o in self.outcomes)

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]


def validate_dataframe(frame: pd.DataFrame, suite: gx.ExpectationSuite) -> SuiteOutcome:
    """Validate `frame` against `suite` in an ephemeral context (nothing is written to disk)."""
    expected_count = len(suite.expectations)
    context = gx.get_context(mode="ephemeral")
    batch_definition = (
        context.data_sources.add_pandas("gate")
        .add_dataframe_asset(suite.name)
        .add_batch_definition_whole_dataframe("batch")
    )
    suite = context.suites.add(suite)
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{suite.name}_gate", data=batch_definition, suite=suite)
    )
    result = validation.run(batch_parameters={"dataframe": frame})
    outcomes = [_outcome(r) for r in result.results]
    if len(outcomes) != expected_count:
        outcomes.append(
            ExpectationOutcome(
                "suite", None, False, True, f"suite has {expected_count} expectations but {len(outcomes)} ran"
            )
        )
    return SuiteOutcome(suite=suite.name, rows=len(frame), outcomes=outcomes)


def _outcome(result: Any) -> ExpectationOutcome:
    config = result.expectation_config
    info = result.exception_info or {}
    errored = bool(info.get("raised_exception")) or any(
        isinstance(v, dict) and v.get("raised_exception") for v in info.values()
    )
    details = result.result or {}
    if errored:
        messages = [info.get("exception_message")] + [
            v.get("exception_message") for v in info.values() if isinstance(v, dict)
        ]
        detail = "; ".join(dict.fromkeys(m for m in messages if m)) or "expectation raised an exception"
    else:
        detail = ", ".join(
            f"{k}={details[k]}" for k in ("unexpected_count", "unexpected_percent", "observed_value") if k in details
        )
    return ExpectationOutcome(
        expectation=config.type,
        column=config.kwargs.get("column"),
        success=bool(result.success) and not errored,
        errored=errored,
        detail=detail,
        sample_bad_values=list(details.get("partial_unexpected_list") or [])[:5],
    )
