"""What a gate's validation returns, and Great Expectations 1.x's own validation of a suite on a pandas frame.

The gates evaluate their suites inside DuckDB (sql_validation.py). GX's validation here is the reference it is held
to (tests/test_sql_validation.py runs both on the same suites and frames) and what validate_dataframe gives tests of
single rules. GX 1.x over DuckDB through SQLAlchemy reports every expectation as failed with a swallowed
MetricResolutionError (GX issues #10738, #11579; checked again with duckdb-engine), hence pandas. Any expectation that
carries exception info counts as failed, never passed: a check that errors is a failed check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from expectations._rules import Suite

if TYPE_CHECKING:
    import great_expectations as gx

SAMPLE_SIZE = 5


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str
    column: str | None
    success: bool
    errored: bool
    detail: str
    unexpected_count: int = 0
    sample_bad_values: list[Any] = field(default_factory=list)
    description: str = ""


@dataclass(frozen=True)
class SuiteOutcome:
    suite: str
    rows: int
    outcomes: list[ExpectationOutcome]
    note: str = ""  # how the batch was judged when not as usual, e.g. "not delivered" (an absent optional table)

    @property
    def success(self) -> bool:
        return bool(self.outcomes) and all(o.success for o in self.outcomes)

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]


def gx_suite(suite: Suite) -> gx.ExpectationSuite:
    """GX's own suite of the same expectations (building it validates every argument, as GX does)."""
    import great_expectations as gx  # 7-13 s to import: only tests and GX's own validation pay it, never a run

    return gx.ExpectationSuite(name=suite.name, expectations=[e.to_gx() for e in suite.expectations])


class SuiteRunner:
    """One ephemeral GX context and validation definition, run on as many DataFrames (chunks) as needed."""

    def __init__(self, rules: Suite) -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        suite = gx_suite(rules)

        self.expected_count = len(suite.expectations)
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)  # run logs, not terminal animations
        batch_definition = (
            context.data_sources.add_pandas("gate")
            .add_dataframe_asset(suite.name)
            .add_batch_definition_whole_dataframe("batch")
        )
        self.suite_name = suite.name
        self._validation = context.validation_definitions.add(
            gx.ValidationDefinition(name=f"{suite.name}_gate", data=batch_definition, suite=context.suites.add(suite))
        )

    def run(self, frame: pd.DataFrame, parameters: Mapping[str, Any] | None = None) -> list[ExpectationOutcome]:
        result = self._validation.run(
            batch_parameters={"dataframe": frame}, expectation_parameters=dict(parameters or {})
        )
        outcomes = [_outcome(r) for r in result.results]
        if len(outcomes) != self.expected_count:
            outcomes.append(
                ExpectationOutcome(
                    "suite", None, False, True, f"suite has {self.expected_count} expectations but {len(outcomes)} ran"
                )
            )
        return outcomes


def validate_dataframe(frame: pd.DataFrame, suite: Suite, parameters: Mapping[str, Any] | None = None) -> SuiteOutcome:
    """Validate one in-memory frame (small batches, tests)."""
    return SuiteOutcome(suite=suite.name, rows=len(frame), outcomes=SuiteRunner(suite).run(frame, parameters))


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
        unexpected_count=int(details.get("unexpected_count") or 0),
        sample_bad_values=list(details.get("partial_unexpected_list") or [])[:SAMPLE_SIZE],
        description=config.description or "",
    )
