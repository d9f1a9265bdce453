"""Preflight: a run that cannot work fails in seconds, before extracting, with one line naming the problem and the
fix (no traceback, exit code != 0): from the `c360` command and from the job's own extract step."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster_dlt import DagsterDltResource

from orchestration.config import Settings
from orchestration.extract import assets as extract
from orchestration.preflight import preflight_problem

C360 = Path(sys.executable).parent / "c360"
LIMIT_S = 10


def _closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run_c360(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], float]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("C360_")}
    full_env |= {"C360_DATA_DIR": str(tmp_path / "data"), **env}
    started = time.monotonic()
    done = subprocess.run([str(C360), "run"], env=full_env, capture_output=True, text=True, timeout=60, check=False)
    return done, time.monotonic() - started


def _landed(tmp_path: Path, source: str = "synthetic") -> Path:
    landing = tmp_path / "data" / "landing" / source
    landing.mkdir(parents=True)
    (landing / "crm_customers.parquet").write_bytes(b"PAR1")
    return landing


@pytest.mark.parametrize(
    ("case", "env", "expected"),
    [
        ("unknown source", {"C360_SOURCE": "ftp"}, "C360_SOURCE='ftp' is not one of"),
        ("missing landing folder", {"C360_SOURCE": "files"}, "landing/files does not exist"),
        ("empty landing folder", {"C360_SOURCE": "synthetic", "EMPTY": "1"}, "landing/synthetic is empty"),
        ("refused CRM source", {"C360_SOURCE": "postgres", "CRM": "1"}, "PostgreSQL CRM source"),
        ("refused serving DSN", {"C360_SOURCE": "synthetic", "SERVING": "1"}, "PostgreSQL serving target"),
        ("too little disk", {"C360_SOURCE": "synthetic", "C360_MIN_FREE_DISK_MB": str(10**12)}, "MB free under"),
        ("prod without a PII key", {"C360_SOURCE": "synthetic", "C360_ENV": "prod"}, "C360_ENV=prod needs a PII key"),
        ("too short a PII key", {"C360_SOURCE": "synthetic", "C360_PII_KEY": "Short-Secret-9"}, "at least 32"),
    ],
)
def test_c360_run_fails_in_seconds_with_one_line(tmp_path: Path, case: str, env: dict, expected: str) -> None:
    env = dict(env)
    if env.pop("EMPTY", None):
        (tmp_path / "data" / "landing" / "synthetic").mkdir(parents=True)
    elif env["C360_SOURCE"] == "synthetic":
        _landed(tmp_path)
    if env.pop("CRM", None):
        (tmp_path / "data" / "landing" / "postgres").mkdir(parents=True)
        env["C360_CRM_POSTGRES_URL"] = f"postgresql://crm:crm-Secret-9@127.0.0.1:{_closed_port()}/crm"
    if env.pop("SERVING", None):
        env["C360_POSTGRES_DSN"] = f"host=127.0.0.1 port={_closed_port()} user=u password=Serving-Secret-9 dbname=x"
    done, elapsed = _run_c360(tmp_path, **env)
    assert done.returncode == 2, case
    assert elapsed < LIMIT_S, f"{case}: took {elapsed:.1f}s"
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and expected in lines[0], done.stderr
    assert "Traceback" not in done.stderr and "Secret-9" not in done.stderr


def test_a_ready_setup_passes(tmp_path: Path) -> None:
    _landed(tmp_path)
    settings = Settings.from_env({"C360_DATA_DIR": str(tmp_path / "data"), "C360_MIN_FREE_DISK_MB": "1"})
    assert preflight_problem(settings) is None


def test_the_jobs_preflight_step_runs_once_before_every_extract(tmp_path: Path) -> None:
    """Scheduled runs do not go through `c360 run`: the job's one preflight step fails on the same line, and no
    extract starts (before, each of the three extract steps ran its own preflight and serving probe)."""
    (tmp_path / "landing" / "synthetic").mkdir(parents=True)
    settings = Settings.from_env({"C360_DATA_DIR": str(tmp_path), "C360_SOURCE": "synthetic"})
    assets = extract.definitions(settings).assets
    assert all(extract.PREFLIGHT_KEY in a.asset_deps[k] for a in assets for k in a.keys if k != extract.PREFLIGHT_KEY)
    result = dg.materialize(
        assets,
        resources={"dlt": DagsterDltResource()},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert not result.success
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert [e.step_key for e in failures] == ["ops__preflight"]
    assert not [e for e in result.all_events if e.event_type_value == "STEP_START" and e.step_key != "ops__preflight"]
    failure = failures[0]
    assert "preflight: landing folder" in failure.step_failure_data.error.message
    assert "is empty" in failure.step_failure_data.error.message
    assert not (tmp_path / "warehouse.duckdb").exists()  # nothing was extracted
