"""Start-up sweep after a crash (`kill -9`, power loss): what a dead run left behind is cleaned up and alerted.

- A run left STARTED whose process is gone (the run's `c360/pid` on this `c360/host`) is marked failed in the
  Dagster instance and alerted like any failed run, with the cause "process gone".
- A killed publish leaves `published/.marts.<run_id>.tmp` (and DuckDB's `.tmp.wal`): removed unless that run is
  still alive. The live `marts.duckdb` is never touched (it is only ever replaced atomically).
"""

from __future__ import annotations

import dataclasses
import os
import socket

import dagster as dg

from orchestration.alerts import handle_finished_run
from orchestration.config import Settings
from orchestration.run_outcome import outcome_from_instance

PID_TAG = "c360/pid"
HOST_TAG = "c360/host"


def process_tags() -> dict[str, str]:
    """Tags that let a later sweep tell whether the process running a run is still there."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _dead(run: dg.DagsterRun) -> bool:
    pid = run.tags.get(PID_TAG, "")
    return run.tags.get(HOST_TAG) == socket.gethostname() and pid.isdigit() and not _alive(int(pid))


def sweep(settings: Settings, instance: dg.DagsterInstance) -> list[str]:
    """Mark dead STARTED runs failed (and alert), remove a killed publish's leftovers; one line per thing done."""
    done: list[str] = []
    live: set[str] = set()
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
        if not _dead(run):
            live.add(run.run_id)
            continue
        cause = f"the run's process {run.tags[PID_TAG]} is gone (killed or crashed); marked failed by the sweep"
        instance.report_run_failed(run, cause)
        outcome = outcome_from_instance(instance, run.run_id)
        outcome = dataclasses.replace(
            outcome, failed_steps=[*outcome.failed_steps, "run"], step_errors={**outcome.step_errors, "run": cause}
        )
        handled = handle_finished_run(settings, outcome, instance)
        done.append(f"run {run.run_id} was left STARTED by a dead process: marked failed, alert {handled.alert_path}")
    published = settings.published_path
    for leftover in sorted(published.parent.glob(f".{published.stem}.*.tmp*")):
        run_id = leftover.name.removeprefix(f".{published.stem}.").split(".tmp")[0]
        if run_id in live:
            continue
        leftover.unlink(missing_ok=True)
        done.append(f"removed {leftover} (left by a killed publish)")
    return done
