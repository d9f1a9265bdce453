"""The daily refresh job and its schedule (cron and timezone from settings)."""

from __future__ import annotations

import dagster as dg

from orchestration.as_of import AS_OF_TAG
from orchestration.config import Settings
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
    )

    @dg.schedule(
        name=f"{DAILY_JOB}_schedule",
        job=job,
        cron_schedule=settings.schedule_cron,
        execution_timezone=settings.schedule_timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
    def schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        """One as-of date per run, fixed at launch: the scheduled day (in the schedule's timezone)."""
        as_of = context.scheduled_execution_time.date().isoformat()
        return dg.RunRequest(tags={AS_OF_TAG: as_of})

    return dg.Definitions(jobs=[job], schedules=[schedule])
