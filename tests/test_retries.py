"""Transient failures are retried with exponential backoff and jitter within the budget; data failures never.

A DuckDB write lock held by another process: a step waits it out (retried) when it is released within the budget,
and fails with one clear line (the lock error, not Dagster's wrapper) when held past it. A data error runs once.

The retry delay is shortened to 0.25 s so the suite does not sleep: with 4 retries, exponential backoff and +/- one
delay of jitter, the attempts start 0-0.5, 0.5-1, 1.5-2 and 3.5-4 s apart (at least 5.5 s from first to last).
A lock released 1.5 s after the first attempt is therefore waited out with 4 s to spare whatever the jitter drew,
and one never released outlasts the whole budget."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.config import Settings
from orchestration.retries import (
    INTERRUPTED,
    OUT_OF_MEMORY_HINT,
    is_out_of_memory,
    is_transient,
    retry_only_transient,
    retry_policy,
    transient_only,
)
from orchestration.run_outcome import outcome_from_events
from orchestration.warehouse import connect_file

RETRY_DELAY_S = 0.25

HOLD = """
import duckdb, pathlib, sys, time
con = duckdb.connect(sys.argv[1])
print("held", flush=True)
marker, deadline = pathlib.Path(sys.argv[1] + ".first-attempt"), time.monotonic() + 120
while not marker.exists() and time.monotonic() < deadline:
    time.sleep(0.05)
time.sleep(float(sys.argv[2]))  # counted from the step's first attempt, whatever the machine's load
"""


def _hold_lock(path: Path, seconds: float) -> subprocess.Popen:
    """Another process holds the write lock until `seconds` after the step's first attempt."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def _job(
    settings: Settings, attempts: list[float], fail_with_data_error: bool = False, stopped: bool = False
) -> dg.JobDefinition:
    @dg.asset
    @transient_only
    def writes_warehouse(context) -> Iterator[dg.MaterializeResult]:  # noqa: ANN001 (Dagster reads the annotation)
        attempts.append(time.monotonic())
        Path(f"{settings.warehouse_path}.first-attempt").touch()
        if fail_with_data_error:
            raise ValueError("crm_orders.amount: 'abc' is not a number")
        if stopped and len(attempts) == 1:  # `kill <pid>` during the step's first attempt
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(30)  # interrupted here
        with connect_file(settings.warehouse_path) as con:
            con.execute("create or replace table t as select 1 as x")
        yield dg.MaterializeResult()

    return dg.Definitions(
        assets=[writes_warehouse],
        jobs=[dg.define_asset_job("j", executor_def=dg.in_process_executor, op_retry_policy=retry_policy(settings))],
    ).resolve_job_def("j")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    env = {"C360_DATA_DIR": str(tmp_path), "C360_RETRY_MAX": "4", "C360_RETRY_DELAY_S": str(RETRY_DELAY_S)}
    settings = Settings.from_env(env)
    with connect_file(settings.warehouse_path) as con:
        con.execute("select 1")
    return settings


def _run_while_locked(settings: Settings, attempts: list[float], seconds: float) -> dg.ExecuteInProcessResult:
    holder = _hold_lock(settings.warehouse_path, seconds)
    try:
        return _job(settings, attempts).execute_in_process(raise_on_error=False)
    finally:
        holder.kill()
        holder.wait()


def test_a_lock_released_within_the_budget_is_waited_out(settings: Settings) -> None:
    attempts: list[float] = []
    result = _run_while_locked(settings, attempts, 1.5)
    assert result.success and len(attempts) >= 2


def test_a_lock_held_past_the_budget_fails_with_one_clear_line(settings: Settings) -> None:
    attempts: list[float] = []
    result = _run_while_locked(settings, attempts, 60)
    assert not result.success and len(attempts) == 5  # the first try + C360_RETRY_MAX
    gaps = [b - a for a, b in zip(attempts, attempts[1:], strict=False)]
    assert gaps[-1] >= 14 * RETRY_DELAY_S and gaps[-1] > gaps[0]  # exponential backoff: (2^4 - 1) delays -/+ one
    error = outcome_from_events(result.run_id, False, result.all_events).step_errors["writes_warehouse"]
    assert "Could not set lock on file" in error and len(error.splitlines()) <= 3


def test_a_data_error_is_never_retried(settings: Settings) -> None:
    attempts: list[float] = []
    result = _job(settings, attempts, fail_with_data_error=True).execute_in_process(raise_on_error=False)
    assert not result.success and len(attempts) == 1
    error = outcome_from_events(result.run_id, False, result.all_events).step_errors["writes_warehouse"]
    assert error == "ValueError: crm_orders.amount: 'abc' is not a number"


def test_sigterm_stops_the_run_instead_of_being_retried(settings: Settings) -> None:
    """Dagster's retry policy retries an interrupted step (a later attempt here would succeed); a stop is a stop."""
    attempts: list[float] = []
    result = _job(settings, attempts, stopped=True).execute_in_process(raise_on_error=False)
    assert not result.success and len(attempts) == 1
    error = outcome_from_events(result.run_id, False, result.all_events).step_errors["writes_warehouse"]
    assert error == INTERRUPTED


def test_classification() -> None:
    assert is_transient(OSError('IO Error: Could not set lock on file "w.duckdb": Conflicting lock is held'))
    assert not is_transient(ValueError("bad row"))


def test_duckdb_out_of_memory_is_retried_once_then_final_with_the_settings_that_help() -> None:
    """A real DuckDB OutOfMemoryException (a 200k-row sort under a 16 MB limit, no spill directory)."""
    with (
        duckdb.connect(config={"memory_limit": "16MB", "temp_directory": ""}) as con,
        pytest.raises(duckdb.OutOfMemoryException) as raised,
    ):
        con.execute("select string_agg(repeat('x', 100) || i::varchar, ',' order by i desc) from range(200000) t(i)")
    error = raised.value
    assert is_out_of_memory(error) and not is_transient(error)
    with pytest.raises(duckdb.OutOfMemoryException), retry_only_transient("oom-run", retry_number=0):
        raise error  # the first attempt's error goes to the retry policy as it is
    with pytest.raises(dg.Failure) as final, retry_only_transient("oom-run", retry_number=1):
        raise error
    assert not final.value.allow_retries
    assert final.value.description.startswith(OUT_OF_MEMORY_HINT) and "Out of Memory Error" in final.value.description
    with pytest.raises(dg.Failure) as data_error, retry_only_transient("oom-run", retry_number=0):
        raise ValueError("bad row")
    assert not data_error.value.allow_retries
