"""dagster.yaml of the project's Dagster instance ($C360_DATA_DIR/dagster_home), shared by CLI runs and `make ui`.

- no telemetry;
- the event log storage of orchestration/event_store.py, at Dagster's default place for per-run databases, so runs
  from before keep showing;
- one run at a time (`concurrency.runs.max_concurrent_runs: 1`): every run of the daily job writes the one DuckDB
  warehouse, and a backfill launched from the UI submits its days oldest first, so the queue runs them in date
  order, each after the previous one ended. (`c360 run` and `c360 backfill` execute in their own process, outside
  the queue; a lock they meet is retried, orchestration/retries.py.)

A file this project wrote before (an older default) is upgraded; an edited one is never overwritten.
"""

from __future__ import annotations

import json
from pathlib import Path

_NO_TELEMETRY = "telemetry:\n  enabled: false\n"
_ONE_RUN_AT_A_TIME = "concurrency:\n  runs:\n    max_concurrent_runs: 1\n"


def _event_store(dagster_home: Path) -> str:
    return (
        "event_log_storage:\n"
        "  module: orchestration.event_store\n"
        "  class: PooledSqliteEventLogStorage\n"
        "  config:\n"
        f"    base_dir: {json.dumps(str(dagster_home / 'history' / 'runs'))}\n"
    )


def instance_yaml(dagster_home: Path) -> str:
    """The current default (see the module docstring)."""
    return _NO_TELEMETRY + _event_store(dagster_home) + _ONE_RUN_AT_A_TIME


def earlier_defaults(dagster_home: Path) -> tuple[str, ...]:
    """What earlier versions of the project wrote: upgraded as if the file were absent."""
    return (_NO_TELEMETRY, _NO_TELEMETRY + _event_store(dagster_home))


def write_instance_yaml(dagster_home: Path) -> None:
    """Write the default unless the file holds something else than a default this project wrote."""
    config = dagster_home / "dagster.yaml"
    if not config.exists() or config.read_text() in earlier_defaults(dagster_home):
        config.write_text(instance_yaml(dagster_home))
