"""Sensors: every finished daily run gets its report; a failed or unpublished one raises an alert."""

from __future__ import annotations

import dagster as dg

from orchestration.alerts import alert_stale_publish, handle_finished_run
from orchestration.config import Settings
from orchestration.freshness import published_freshness
from orchestration.run_outcome import outcome_from_instance
from orchestration.schedules import DAILY_JOB

FRESHNESS_INTERVAL_S = 15 * 60


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

    @dg.sensor(
        name="published_data_freshness",
        minimum_interval_seconds=FRESHNESS_INTERVAL_S,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def published_data_freshness(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        """Alerts (file + webhook) when no successful publish happened within C360_PUBLISH_SLA_HOURS."""
        freshness = published_freshness(settings)
        alert_path = alert_stale_publish(settings, freshness)
        if alert_path:
            context.log.error(f"{freshness.problem()}; alert: {alert_path}")
        return dg.SkipReason(freshness.problem() or f"fresh: {freshness.describe()}")

    return dg.Definitions(sensors=[alert_on_failed_run, report_on_successful_run, published_data_freshness])
