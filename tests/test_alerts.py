"""Alerts carry the cause (the root error text, the failing checks); secrets never reach the log, file or webhook
line; the run outcome keeps the root exception's message, not Dagster's wrapper."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path

import dagster as dg
import pytest

from orchestration.alerts import handle_finished_run
from orchestration.config import Settings
from orchestration.redact import redact, secret_values
from orchestration.run_outcome import CheckSummary, RunOutcome, outcome_from_events

PASSWORD = "Pg-Pass-4242"
TOKEN = "T0KEN-abcdef123456"
RETIRED = ("retired-key-one-0123456789-0123456789", "retired-key-two-0123456789-0123456789")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    env = {
        "C360_DATA_DIR": str(tmp_path),
        "C360_POSTGRES_DSN": f"host=127.0.0.1 port=5432 user=c360 password={PASSWORD} dbname=marts",
        "C360_ALERT_WEBHOOK_URL": f"http://127.0.0.1:{_closed_port()}/hooks/{TOKEN}",
        "C360_PII_KEY": "pii-key-0123456789-0123456789-abcdef",
        "C360_PII_KEY_RETIRED": f"{RETIRED[0]} {RETIRED[1]}",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def test_a_failed_publish_alerts_with_its_cause_and_checks_and_no_secret(
    secret_env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings.from_env(secret_env)
    cause = f'connection to server failed for "{secret_env["C360_POSTGRES_DSN"]}": FATAL password authentication'
    outcome = RunOutcome(
        run_id="run-1",
        success=False,
        checks=[CheckSummary("marts/mart_rfm", "gx_mart_rfm", False, "rfm_score out of range")],
        materialized=[],
        failed_steps=["publish_marts"],
        step_errors={"publish_marts": cause},
    )
    with caplog.at_level(logging.ERROR, logger="c360.alerts"):
        handled = handle_finished_run(settings, outcome)
    alert = json.loads(handled.alert_path.read_text())
    assert "FATAL password authentication" in alert["cause"]["publish_marts"]
    assert alert["failed_checks"][0]["check"] == "gx_mart_rfm"
    run_line = next(r.getMessage() for r in caplog.records if "run-1" in r.getMessage())
    assert "FATAL password authentication" in run_line and "gx_mart_rfm" in run_line
    webhook_line = next(r.getMessage() for r in caplog.records if "webhook" in r.getMessage())
    assert "/hooks/" not in webhook_line  # scheme and host only
    written = handled.alert_path.read_text() + handled.report_path.read_text() + caplog.text
    for secret in (PASSWORD, TOKEN, secret_env["C360_ALERT_WEBHOOK_URL"], secret_env["C360_PII_KEY"]):
        assert secret not in written


def test_redact_masks_configured_values_and_any_dsn_or_url_password(secret_env: dict[str, str]) -> None:
    secrets = secret_values(secret_env)
    text = f"a {PASSWORD} b {TOKEN} c postgresql://u:other-pw@h/db d password='quoted pw' e host=h password=x1y2z3"
    text += f" f {RETIRED[1]} g"  # one retired key alone
    masked = redact(text, secrets)
    for secret in (PASSWORD, TOKEN, "other-pw", "quoted pw", "x1y2z3", *RETIRED):
        assert secret not in masked
    assert "postgresql://u:***@h/db" in masked


def test_the_outcome_keeps_the_root_error_not_dagsters_wrapper() -> None:
    @dg.asset
    def broken() -> None:
        try:
            raise OSError(f"disk gone, password={PASSWORD}")
        except OSError as exc:
            raise RuntimeError("while writing") from exc

    result = dg.materialize([broken], instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    outcome = outcome_from_events(result.run_id, result.success, result.all_events)
    assert outcome.failed_steps == ["broken"]
    assert outcome.step_errors["broken"] == "OSError: disk gone, password=***"
