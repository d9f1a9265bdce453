"""File-arrival sensor (`delivery_arrival`, files source): a run starts when a complete delivery lands (its `_SUCCESS`
marker written last), once per delivery, never for a delivery still being written; one that stays incomplete past
C360_DELIVERY_INCOMPLETE_MINUTES alerts once (file + webhook). Evaluated with Dagster's sensor testing API
(`build_sensor_context`, the cursor carried from one tick to the next as the daemon does) on real files."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import dagster as dg

from orchestration import sensors
from orchestration.config import Settings
from orchestration.extract.arrival import MARKER
from orchestration.schedules import DAILY_JOB
from tests.webhook_sink import Webhook, webhook_fixture  # noqa: F401  (fixture)

CONTACTS = (
    "Record ID,Email,Create Date,Last Modified Date\nC1,ann@example.org,2019-03-02 10:00:00,2019-11-30 08:00:00\n"
)
ORDERS = (
    "Id,Customer ID,Created at,Currency,Total,Financial Status,Updated at\n"
    "1001,C1,2019-11-29 09:00:00 -0500,USD,80.00,paid,2019-11-29 09:00:00 -0500\n"
)


class Ticks:
    """The sensor evaluated tick after tick with the cursor it returned, as the Dagster daemon runs it."""

    def __init__(self, settings: Settings) -> None:
        defs = sensors.definitions(settings)
        self.sensor = next(s for s in defs.sensors if s.name == "delivery_arrival")
        self.instance = dg.DagsterInstance.ephemeral()
        self.cursor: str | None = None

    def tick(self) -> dg.SensorResult | dg.SkipReason:
        context = dg.build_sensor_context(instance=self.instance, cursor=self.cursor)
        result = self.sensor(context)
        if isinstance(result, dg.SensorResult) and result.cursor is not None:
            self.cursor = result.cursor
        return result


def _write(path: Path, text: str, age_s: float = 0.0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    when = time.time() - age_s
    os.utime(path, (when, when))


def _settings(data_dir: Path, webhook: Webhook) -> Settings:
    env = {"C360_DATA_DIR": str(data_dir), "C360_SOURCE": "files", "C360_ALERT_WEBHOOK_URL": webhook.url}
    return Settings.from_env(env | {"C360_DELIVERY_INCOMPLETE_MINUTES": "60"})


def test_a_complete_delivery_starts_one_run_and_a_delivery_being_written_none(tmp_path: Path, webhook: Webhook) -> None:
    settings = _settings(tmp_path, webhook)
    landing = settings.landing_dir
    ticks = Ticks(settings)
    assert "no delivery" in ticks.tick().skip_message

    _write(landing / "crm" / "contacts.csv", CONTACTS)  # being written: no marker yet
    pending = ticks.tick()
    assert isinstance(pending, dg.SkipReason) and "1 file(s) changed after the last _SUCCESS" in pending.skip_message

    _write(landing / "crm" / "orders.csv", ORDERS)
    _write(landing / MARKER, "")  # written last: the delivery is complete
    started = ticks.tick()
    assert isinstance(started, dg.SensorResult)
    [request] = started.run_requests
    assert request.run_key == f"delivery-{ticks.cursor}" and request.tags == {sensors.DELIVERY_TAG: ticks.cursor}
    assert ticks.sensor.job_name == DAILY_JOB

    for _ in range(2):  # the same delivery never starts a second run
        again = ticks.tick()
        assert isinstance(again, dg.SkipReason) and "already started its run" in again.skip_message

    first = ticks.cursor
    _write(landing / "crm" / "orders.csv", ORDERS + ORDERS.splitlines()[1].replace("1001", "1002") + "\n", age_s=-2)
    assert isinstance(ticks.tick(), dg.SkipReason)  # the next delivery is being written: wait for its marker
    _write(landing / MARKER, "", age_s=-3)
    [second] = ticks.tick().run_requests
    assert ticks.cursor != first and second.run_key == f"delivery-{ticks.cursor}"
    assert webhook.received == [] and not settings.alerts_dir.exists()


def test_a_delivery_that_stays_incomplete_alerts_once(tmp_path: Path, webhook: Webhook) -> None:
    settings = _settings(tmp_path, webhook)
    landing = settings.landing_dir
    _write(landing / "crm" / "contacts.csv", CONTACTS, age_s=3 * 3600)
    _write(landing / MARKER, "", age_s=3 * 3600)
    _write(landing / "crm" / "orders.csv", ORDERS, age_s=2 * 3600)  # after the marker, and no new marker since
    ticks = Ticks(settings)

    for _ in range(2):
        result = ticks.tick()
        assert isinstance(result, dg.SkipReason)
        assert "delivery incomplete for 120 min: 1 file(s) changed after the last _SUCCESS marker (crm/orders.csv)" in (
            result.skip_message
        )
    [alert_file] = settings.alerts_dir.glob("incomplete-delivery-*.json")
    alert = json.loads(alert_file.read_text())
    assert alert["pending_files"] == ["crm/orders.csv"] and alert["status"] == "incomplete delivery"
    assert [a["summary"] for a in webhook.received] == [alert["summary"]]  # once, not once per tick


def test_other_sources_are_not_watched(tmp_path: Path, webhook: Webhook) -> None:
    settings = Settings.from_env({"C360_DATA_DIR": str(tmp_path), "C360_SOURCE": "synthetic"})
    ticks = Ticks(settings)
    assert ticks.sensor.default_status == dg.DefaultSensorStatus.STOPPED
    assert "the source is synthetic" in ticks.tick().skip_message
    assert Ticks(_settings(tmp_path, webhook)).sensor.default_status == dg.DefaultSensorStatus.RUNNING
