"""Sensors: every finished daily run gets its report; a failed or unpublished one raises an alert; a run whose process
died is marked failed; stale marts alert; with the files source, a complete delivery starts the daily job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg

from orchestration.alerts import alert_once, alert_stale_publish, handle_finished_run
from orchestration.config import Settings
from orchestration.extract.arrival import MARKER, scan
from orchestration.freshness import published_freshness
from orchestration.recovery import sweep
from orchestration.run_outcome import outcome_from_instance
from orchestration.schedules import DAILY_JOB

FRESHNESS_INTERVAL_S = 15 * 60
ARRIVAL_INTERVAL_S = 60
SWEEP_INTERVAL_S = 120
DELIVERY_TAG = "c360/delivery"


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
        name="sweep_dead_runs", minimum_interval_seconds=SWEEP_INTERVAL_S, default_status=dg.DefaultSensorStatus.RUNNING
    )
    def sweep_dead_runs(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        """The daemon's side of the start-up sweep (orchestration/recovery.py): a run killed with its process (kill -9,
        OOM, power loss) stays STARTED for ever, and Dagster's run monitoring cannot see a dead worker of the default
        run launcher. Marks it failed, alerts it, removes its publish leftovers."""
        done = sweep(settings, context.instance)
        for line in done:
            context.log.error(line)
        return dg.SkipReason("; ".join(done) or "no run left STARTED by a dead process")

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

    @dg.sensor(
        name="delivery_arrival",
        job_name=DAILY_JOB,
        minimum_interval_seconds=ARRIVAL_INTERVAL_S,
        # on by default for the files source only: other sources have no deliveries to watch
        default_status=dg.DefaultSensorStatus.RUNNING if settings.source == "files" else dg.DefaultSensorStatus.STOPPED,
    )
    def delivery_arrival(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
        """C360_SOURCE=files: one daily run per complete delivery (a new _SUCCESS marker, written last; see
        orchestration/extract/arrival.py); a delivery that stays incomplete alerts once."""
        if settings.source != "files":
            return dg.SkipReason(f"watches C360_SOURCE=files deliveries; the source is {settings.source}")
        delivery = scan(settings.landing_dir)
        if delivery.complete:
            if delivery.key == context.cursor:
                return dg.SkipReason(f"delivery {delivery.key} already started its run; waiting for a new {MARKER}")
            request = dg.RunRequest(run_key=f"delivery-{delivery.key}", tags={DELIVERY_TAG: delivery.key})
            return dg.SensorResult(run_requests=[request], cursor=delivery.key)
        if not delivery.files:
            return dg.SkipReason(f"no delivery in {settings.landing_dir}")
        now = datetime.now(UTC)
        problem = delivery.describe_pending(now)
        if now - delivery.newest_change > timedelta(minutes=settings.delivery_incomplete_minutes):
            alert = {"status": "incomplete delivery", "summary": problem, "pending_files": list(delivery.pending)}
            alert_path = alert_once(settings, f"incomplete-delivery-{delivery.newest_change:%Y%m%dT%H%M%S%fZ}", alert)
            context.log.error(f"{problem}; alert: {alert_path}")
        return dg.SkipReason(problem)

    return dg.Definitions(
        sensors=[
            alert_on_failed_run,
            report_on_successful_run,
            sweep_dead_runs,
            published_data_freshness,
            delivery_arrival,
        ]
    )
