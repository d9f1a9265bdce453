"""After every run: the human-readable report on disk and in the run's tags; on failure an alert (log, file, webhook).

Both the CLI (in-process runs) and the Dagster sensors (daemon runs) call `handle_finished_run`; it is idempotent per
run id, so a run seen by both never alerts twice.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from orchestration.config import Settings
from orchestration.freshness import Freshness
from orchestration.redact import describe_url, redact, redact_data
from orchestration.report import render
from orchestration.run_outcome import RunOutcome

log = logging.getLogger("c360.alerts")
WEBHOOK_TIMEOUT_S = 10


@dataclass(frozen=True)
class Handled:
    report_path: Path
    alert_path: Path | None
    webhook_status: int | None


def run_is_healthy(outcome: RunOutcome) -> bool:
    """A run is good only if it succeeded, every check passed and the marts were published."""
    return outcome.success and outcome.published and all(c.passed for c in outcome.checks)


def handle_finished_run(settings: Settings, outcome: RunOutcome, instance: dg.DagsterInstance | None = None) -> Handled:
    report = redact(render(settings, outcome))
    report_path = settings.data_dir / "reports" / f"{outcome.run_id}.txt"
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(report + "\n")
    if instance is not None:
        tags = {"c360/report": str(report_path), "c360/summary": _summary(outcome)}
        instance.add_run_tags(outcome.run_id, redact_data(tags))
    if run_is_healthy(outcome):
        return Handled(report_path, None, None)

    alert_path = settings.alerts_dir / f"{outcome.run_id}.json"
    if alert_path.exists():  # already alerted (by the CLI or the sensor)
        return Handled(report_path, alert_path, None)
    alert = {
        "run_id": outcome.run_id,
        "status": "failed" if not outcome.success else "not published",
        "summary": _summary(outcome),
        "failed_checks": [
            {"asset": c.asset, "check": c.check, "detail": c.detail} for c in outcome.checks if not c.passed
        ],
        "failed_steps": outcome.failed_steps,
        "cause": {step: outcome.step_errors.get(step, "") for step in outcome.failed_steps},
        "report": report,
    }
    alert = redact_data(alert)
    alert_path.parent.mkdir(parents=True, exist_ok=True)
    alert_path.write_text(json.dumps(alert, indent=2))
    log.error("c360 run %s %s: %s%s", outcome.run_id, alert["status"], alert["summary"], _cause_line(alert))
    status = _post(settings.alert_webhook_url, alert) if settings.alert_webhook_url else None
    return Handled(report_path, alert_path, status)


def alert_stale_publish(settings: Settings, freshness: Freshness) -> Path | None:
    """Alert (log, file, webhook) that the published marts missed their SLA; once per last publish."""
    if not freshness.stale:
        return None
    return alert_once(
        settings,
        f"stale-since-{freshness.run_id or 'never-published'}",
        {
            "status": "stale",
            "summary": freshness.problem(),
            "last_publish_run_id": freshness.run_id,
            "published_at": freshness.published_at.isoformat() if freshness.published_at else None,
            "as_of_date": freshness.as_of_date,
            "sla_hours": freshness.sla.total_seconds() / 3600,
        },
    )


def alert_once(settings: Settings, name: str, alert: dict) -> Path:
    """An alert about the warehouse rather than one run (stale marts, a delivery that stays incomplete): logged,
    written to `alerts/<name>.json` and POSTed, once per name. `alert["summary"]` is the log line."""
    alert_path = settings.alerts_dir / f"{name}.json"
    if alert_path.exists():
        return alert_path
    alert = redact_data(alert)
    alert_path.parent.mkdir(parents=True, exist_ok=True)
    alert_path.write_text(json.dumps(alert, indent=2))
    log.error("c360 %s", alert["summary"])
    if settings.alert_webhook_url:
        _post(settings.alert_webhook_url, alert)
    return alert_path


def _cause_line(alert: dict) -> str:
    """The cause in the one log line: the first failed step's error, else the first failed check."""
    causes = [f"{step}: {error.splitlines()[0]}" for step, error in alert["cause"].items() if error]
    checks = [f"{c['asset']} {c['check']}" for c in alert["failed_checks"]]
    parts = ([f"cause {causes[0]}"] if causes else []) + ([f"failed checks {', '.join(checks[:5])}"] if checks else [])
    return "; " + "; ".join(parts) if parts else ""


def _summary(outcome: RunOutcome) -> str:
    passed = sum(c.passed for c in outcome.checks)
    state = "published" if outcome.published else "NOT published"
    stale = "".join(f"; {name} serving stale" for name in outcome.stale_serving_targets)
    return f"{passed}/{len(outcome.checks)} checks passed; {state}{stale}"


def _post(url: str, payload: dict) -> int | None:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_S) as response:
            return response.status
    except OSError as exc:  # the alert is already logged and on disk; a dead webhook must not hide it
        log.error("alert webhook %s failed: %s", describe_url(url), redact(str(exc)))
        return None
