"""The daily refresh job, partitioned by as-of date (orchestration/partitions.py), and its schedule (cron and timezone
from settings)."""

from __future__ import annotations

import dagster as dg

from orchestration.config import Settings
from orchestration.partitions import as_of_config
from orchestration.retries import retry_policy

DAILY_JOB = "daily_refresh"


def definitions(settings: Settings) -> dg.Definitions:
    job = dg.define_asset_job(
        DAILY_JOB,
        selection=dg.AssetSelection.all(),
        description="Extract every source, gate the new batches, build and test the warehouse, publish the marts.",
        # DuckDB allows one read-write process per file: steps run one after another in the run's process.
        executor_def=dg.in_process_executor,
        op_retry_policy=retry_policy(settings),  # transient errors only: see orchestration/retries.py
        config=as_of_config(settings),  # a partition per as-of date: the UI backfills a range of days
    )

    @dg.schedule(
        name=f"{DAILY_JOB}_schedule",
        job=job,
        cron_schedule=settings.schedule_cron,
        execution_timezone=settings.schedule_timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
    def schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        """One as-of date per run, fixed at launch: the scheduled day (in the schedule's timezone), its partition."""
        return dg.RunRequest(partition_key=context.scheduled_execution_time.date().isoformat())

    return dg.Definitions(jobs=[job], schedules=[schedule])
