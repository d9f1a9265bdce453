"""The daily refresh job and its schedule (cron and timezone from settings)."""

from __future__ import annotations

import dagster as dg

from orchestration.config import Settings

DAILY_JOB = "daily_refresh"


def definitions(settings: Settings) -> dg.Definitions:
    job = dg.define_asset_job(
        DAILY_JOB,
        selection=dg.AssetSelection.all(),
        description="Extract every source, gate the new batches, build and test the warehouse, publish the marts.",
    )
    schedule = dg.ScheduleDefinition(
        name=f"{DAILY_JOB}_schedule",
        job=job,
        cron_schedule=settings.schedule_cron,
        execution_timezone=settings.schedule_timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
    return dg.Definitions(jobs=[job], schedules=[schedule])
