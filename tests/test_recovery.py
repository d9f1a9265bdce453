"""Start-up sweep: a run left STARTED by a killed process is marked failed and alerted; a killed publish's
`.marts.<run>.tmp` and `.wal` are removed; a live run and its files are left alone."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import dagster as dg
from dagster_dlt import DagsterDltResource

from orchestration import sensors
from orchestration.config import Settings
from orchestration.extract import assets as extract
from orchestration.recovery import HOST_TAG, PID_TAG, sweep
from orchestration.runner import prepare_instance


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def _started_run(instance: dg.DagsterInstance, pid: int) -> str:
    run = dg.DagsterRun(
        job_name="daily_refresh",
        status=dg.DagsterRunStatus.STARTED,
        tags={PID_TAG: str(pid), HOST_TAG: socket.gethostname()},
    )
    instance.add_run(run)
    return run.run_id


def test_sweep_fails_and_alerts_dead_runs_and_removes_publish_leftovers(tmp_path: Path) -> None:
    settings = Settings.from_env({"C360_DATA_DIR": str(tmp_path)})
    instance = prepare_instance(settings)
    dead = _started_run(instance, _dead_pid())
    alive = _started_run(instance, os.getpid())
    published = settings.published_path
    published.parent.mkdir(parents=True, exist_ok=True)  # prepare_instance lays out the data dir (data_dir.py)
    published.write_bytes(b"live marts")
    leftovers = [published.with_name(f".marts.{dead}.tmp"), published.with_name(f".marts.{dead}.tmp.wal")]
    in_progress = published.with_name(f".marts.{alive}.tmp")
    for path in [*leftovers, in_progress]:
        path.write_bytes(b"partial")

    done = sweep(settings, instance)

    assert instance.get_run_by_id(dead).status == dg.DagsterRunStatus.FAILURE
    assert instance.get_run_by_id(alive).status == dg.DagsterRunStatus.STARTED
    alert = json.loads((settings.alerts_dir / f"{dead}.json").read_text())
    assert "is gone (killed or crashed)" in alert["cause"]["run"]
    assert not any(p.exists() for p in leftovers)
    assert in_progress.exists() and published.read_bytes() == b"live marts"
    assert len(done) == 3
    assert sweep(settings, instance) == []  # idempotent: nothing left to do


def test_the_daemon_sweeps_too_and_daemon_runs_are_tagged_with_their_worker(tmp_path: Path) -> None:
    """Runs the daemon launches never pass through `c360 run`: the preflight step tags their worker's pid, and the
    `sweep_dead_runs` sensor does the start-up sweep's work on every tick."""
    settings = Settings.from_env({"C360_DATA_DIR": str(tmp_path), "C360_MIN_FREE_DISK_MB": "1"})
    instance = prepare_instance(settings)
    dead = _started_run(instance, _dead_pid())
    sensor = next(s for s in sensors.definitions(settings).sensors if s.name == "sweep_dead_runs")
    result = sensor(dg.build_sensor_context(instance=instance))
    assert f"run {dead} was left STARTED by a dead process" in result.skip_message
    assert instance.get_run_by_id(dead).status == dg.DagsterRunStatus.FAILURE
    assert (settings.alerts_dir / f"{dead}.json").exists()

    settings.landing_dir.mkdir(parents=True)
    (settings.landing_dir / "crm_customers.parquet").write_bytes(b"PAR1")
    preflight = next(a for a in extract.definitions(settings).assets if a.key == extract.PREFLIGHT_KEY)
    run = dg.materialize([preflight], instance=instance, resources={"dlt": DagsterDltResource()})
    assert run.success
    tags = instance.get_run_by_id(run.run_id).tags
    assert (tags[PID_TAG], tags[HOST_TAG]) == (str(os.getpid()), socket.gethostname())
