"""What a run did (checks, materialisations, failed steps), read from its Dagster events.

Its own module because the runner, the publish asset, the report, the alerts and the sensors all read it; the
runner itself (which builds the definitions) is imported by none of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import dagster as dg

from orchestration.redact import redact

if TYPE_CHECKING:
    from dagster._utils.error import SerializableErrorInfo


#: step key of each optional serving copy -> its name in reports and alerts (orchestration/publish/assets.py)
SERVING_COPY_STEPS = {"published__postgres": "PostgreSQL"}


@dataclass(frozen=True)
class CheckSummary:
    asset: str
    check: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    success: bool
    checks: list[CheckSummary]
    materialized: list[str]
    failed_steps: list[str]
    #: step key -> the root exception's message (not Dagster's wrapper), secrets redacted
    step_errors: dict[str, str] = field(default_factory=dict)

    @property
    def published(self) -> bool:
        """The DuckDB file, the product's own target, was replaced by this run's checked marts."""
        return "published/marts" in self.materialized

    @property
    def stale_serving_targets(self) -> list[str]:
        """Serving copies whose publish failed this run: each keeps serving the previous run's complete marts."""
        return [name for step, name in SERVING_COPY_STEPS.items() if step in self.failed_steps]


def outcome_from_events(run_id: str, success: bool, events: Iterable[dg.DagsterEvent]) -> RunOutcome:
    """What a run did, read from its Dagster events (the in-process result or the instance's event log)."""
    checks, materialized, failed_steps, step_errors = [], set(), [], {}
    for event in events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            failures = evaluation.metadata.get("failures") or evaluation.metadata.get("error")
            checks.append(
                CheckSummary(
                    asset=evaluation.asset_key.to_user_string(),
                    check=evaluation.check_name,
                    passed=evaluation.passed,
                    detail="" if evaluation.passed else str(failures.value if failures else ""),
                )
            )
        elif event.event_type_value == "ASSET_MATERIALIZATION":
            materialized.add(event.asset_key.to_user_string())
        elif event.event_type_value == "STEP_FAILURE":
            failed_steps.append(event.step_key)
            if event.step_failure_data and event.step_failure_data.error:
                step_errors[event.step_key] = root_error_message(event.step_failure_data.error)
    return RunOutcome(run_id, success, checks, sorted(materialized), failed_steps, step_errors)


#: The project's own errors about a delivery: each already names the file and the fix, and quotes the library error
#: it was raised from (which alone would name neither), so the outcome keeps the deepest of these, not their cause.
EXPLAINED_ERRORS = frozenset({"DeliveryError", "LandingError", "FxRatesError", "PreflightError", "SettingsError"})


def root_error_message(error: SerializableErrorInfo) -> str:
    """The message of the exception that started it (the last `cause`, or the deepest of EXPLAINED_ERRORS), without
    Dagster's wrapper or the class path."""
    chain = [error]
    while chain[-1].cause is not None:
        chain.append(chain[-1].cause)
    explained = [e for e in chain if e.cls_name in EXPLAINED_ERRORS]
    error = explained[-1] if explained else chain[-1]
    message = error.message.strip()
    head, sep, rest = message.partition(": ")
    if sep and head.rsplit(".", 1)[-1] == error.cls_name:
        message = rest if error.cls_name == "Failure" else f"{error.cls_name}: {rest}"
    return redact(message)


def outcome_from_instance(instance: dg.DagsterInstance, run_id: str) -> RunOutcome:
    run = instance.get_run_by_id(run_id)
    events = [entry.dagster_event for entry in instance.all_logs(run_id) if entry.dagster_event]
    return outcome_from_events(run_id, run is not None and run.status == dg.DagsterRunStatus.SUCCESS, events)
