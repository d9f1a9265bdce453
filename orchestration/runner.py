"""Run the daily job in this process (what `c360 run` and `make demo` do) and collect what happened."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import dagster as dg

from orchestration.config import Settings
from orchestration.data_dir import ensure_data_dir
from orchestration.definitions import build_definitions
from orchestration.instance_config import write_instance_yaml
from orchestration.partitions import partition_key
from orchestration.recovery import process_tags
from orchestration.run_outcome import RunOutcome, outcome_from_events
from orchestration.schedules import DAILY_JOB


def prepare_instance(settings: Settings) -> dg.DagsterInstance:
    """A persistent instance under $C360_DATA_DIR/dagster_home, so CLI runs show up in `make ui`."""
    ensure_data_dir(settings)
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    write_instance_yaml(settings.dagster_home)
    return dg.DagsterInstance.from_config(str(settings.dagster_home))


def run_daily_job(
    settings: Settings,
    as_of_date: str = "",
    instance: dg.DagsterInstance | None = None,
    log_level: str = "WARNING",
    tags: Mapping[str, str] | None = None,
    asset_selection: Sequence[dg.AssetKey] | None = None,
) -> RunOutcome:
    """Execute the daily job; the full event log stays in the instance (see `make ui`), the console gets warnings.
    `tags` are added to the run's (a backfill's id, ...); `asset_selection` runs part of the job (e.g. its publish
    steps over the warehouse a previous run built), the whole job when None. A run with an as-of date is that day's
    partition (a SettingsError if the day has none); without, it resolves its as-of date as it runs (as_of.py)."""
    key = partition_key(settings, date.fromisoformat(as_of_date)) if as_of_date else None
    job = build_definitions(settings).resolve_job_def(DAILY_JOB)
    result = job.execute_in_process(
        instance=instance or prepare_instance(settings),
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        tags={**(tags or {}), **process_tags()},
        partition_key=key,
        raise_on_error=False,
        asset_selection=asset_selection,
    )
    return outcome_from_events(result.run_id, result.success, result.all_events)
