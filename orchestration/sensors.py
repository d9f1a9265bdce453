"""Sensors: every finished daily run gets its report; a failed or unpublished one raises an alert."""

from __future__ import annotations

import dagster as dg

from orchestration.alerts import handle_finished_run
from orchestration.config import Settings
from orchestration.run_outcome import outcome_from_instance
from orchestration.schedules import DAILY_JOB


def definitions(settings: Settings) -> dg.Definitions:
    @dg.run_failure_sensor(name="alert_on_failed_run", default_status=dg.DefaultSensorStatus.RUNNING)
    def alert_on_failed_run(context: dg.RunFailureSensorContext) -> None:
        outcome = outcome_from_instance(context.instance, context.dagster_run.run_id)
        handled = handle_finished_run(settings, outcome, context.instance)
        context.log.error(f"run {outcome.run_id} failed; alert written to {handled.alert_path}")

    @dg.run_status_sensor(
        name="report_on_successful_run",
        run_status=dg.DagsterRunStatus.SUCCESS,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def report_on_successful_run(context: dg.RunStatusSensorContext) -> None:
        """A run can succeed without publishing (e.g. a job selection without the publish asset): alert on that."""
        if context.dagster_run.job_name != DAILY_JOB:
            return
        outcome = outcome_from_instance(context.instance, context.dagster_run.run_id)
        handle_finished_run(settings, outcome, context.instance)

    return dg.Definitions(sensors=[alert_on_failed_run, report_on_successful_run])
