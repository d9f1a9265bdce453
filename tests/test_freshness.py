"""Freshness SLA of the published marts: `c360 publish status` shows age and as-of date and fails with one line when
the last publish is older than C360_PUBLISH_SLA_HOURS; the freshness sensor alerts (file + webhook) once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from c360_cli.main import main
from orchestration import sensors
from orchestration.config import Settings
from orchestration.publish.publisher import PUBLISH_LOG, publish
from tests.webhook_sink import Webhook, webhook_fixture  # noqa: F401  (fixture)


def _published(data_dir: Path, age: timedelta) -> Settings:
    settings = Settings.from_env({"C360_DATA_DIR": str(data_dir)})
    data_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("create schema marts; create table marts.mart_rfm as select 1 as customer_key")
    details = {"as_of_date": "2026-01-31"}
    publish(settings.warehouse_path, settings.published_path, [("marts", "mart_rfm")], "run-old", details)
    with duckdb.connect(str(settings.published_path)) as con:
        con.execute(f"update {PUBLISH_LOG} set published_at = ?", [datetime.now(UTC) - age])
    return settings


def test_publish_status_shows_age_and_fails_past_the_sla(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _published(tmp_path, timedelta(hours=30))
    monkeypatch.setenv("C360_DATA_DIR", str(tmp_path))
    assert main(["publish", "status"]) == 1
    out, err = capsys.readouterr()
    assert "as of 2026-01-31" in out and "age 30.0 h (SLA 26 h)" in out
    assert len(err.splitlines()) == 1 and "published data is stale" in err

    monkeypatch.setenv("C360_PUBLISH_SLA_HOURS", "48")
    assert main(["publish", "status"]) == 0
    assert capsys.readouterr().err == ""


def test_the_freshness_sensor_alerts_once_by_file_and_webhook(tmp_path: Path, webhook: Webhook) -> None:
    url, received = webhook.url, webhook.received
    _published(tmp_path, timedelta(hours=27))
    settings = Settings.from_env({"C360_DATA_DIR": str(tmp_path), "C360_ALERT_WEBHOOK_URL": url})
    sensor = next(s for s in sensors.definitions(settings).sensors if s.name == "published_data_freshness")
    with dg.DagsterInstance.ephemeral() as instance:
        for _ in range(2):
            sensor(dg.build_sensor_context(instance=instance))
    alerts = list(settings.alerts_dir.glob("stale-*.json"))
    assert len(alerts) == 1 and json.loads(alerts[0].read_text())["last_publish_run_id"] == "run-old"
    assert len(received) == 1 and received[0]["status"] == "stale"


def test_a_fresh_publish_does_not_alert(tmp_path: Path) -> None:
    settings = _published(tmp_path, timedelta(hours=1))
    sensor = next(s for s in sensors.definitions(settings).sensors if s.name == "published_data_freshness")
    with dg.DagsterInstance.ephemeral() as instance:
        sensor(dg.build_sensor_context(instance=instance))
    assert not settings.alerts_dir.exists()
