"""Run the daily job in this process (what `c360 run` and `make demo` do) and collect what happened."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

import dagster as dg

from orchestration.as_of import AS_OF_TAG
from orchestration.config import Settings
from orchestration.schedules import DAILY_JOB
from orchestration.transform.project import ensure_manifest

DAGSTER_YAML = "telemetry:\n  enabled: false\n"


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

    @property
    def published(self) -> bool:
        return "published/marts" in self.materialized


def prepare_instance(settings: Settings) -> dg.DagsterInstance:
    """A persistent instance under $C360_DATA_DIR/dagster_home, so CLI runs show up in `make ui`."""
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    config = settings.dagster_home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    return dg.DagsterInstance.get()


def run_daily_job(
    settings: Settings,
    as_of_date: str = "",
    instance: dg.DagsterInstance | None = None,
    log_level: str = "WARNING",
) -> RunOutcome:
    """Execute the daily job; the full event log stays in the instance (see `make ui`), the console gets warnings."""
    ensure_manifest(settings)
    from orchestration.definitions import build_definitions  # after the manifest exists

    job = build_definitions(settings).resolve_job_def(DAILY_JOB)
    result = job.execute_in_process(
        instance=instance or prepare_instance(settings),
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        tags={AS_OF_TAG: as_of_date} if as_of_date else None,
        raise_on_error=False,
    )
    return outcome_from_events(result.run_id, result.success, result.all_events)


def outcome_from_events(run_id: str, success: bool, events: Iterable[dg.DagsterEvent]) -> RunOutcome:
    """What a run did, read from its Dagster events (the in-process result or the instance's event log)."""
    checks, materialized, failed_steps = [], set(), []
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
    return RunOutcome(run_id, success, checks, sorted(materialized), failed_steps)


def outcome_from_instance(instance: dg.DagsterInstance, run_id: str) -> RunOutcome:
    run = instance.get_run_by_id(run_id)
    events = [entry.dagster_event for entry in instance.all_logs(run_id) if entry.dagster_event]
    return outcome_from_events(run_id, run is not None and run.status == dg.DagsterRunStatus.SUCCESS, events)
