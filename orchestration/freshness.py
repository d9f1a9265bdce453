"""Freshness SLA of the published marts: how old the last successful publish is, against `C360_PUBLISH_SLA_HOURS`.

Read from the published file's own `_publish_log` (when it was published, by which run, as of which date), so it
judges what BI actually reads. Used by `c360 publish status` and by the `published_data_freshness` sensor.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from orchestration.config import Settings
from orchestration.publish.publisher import PUBLISH_LOG
from orchestration.warehouse import connect_published


@dataclass(frozen=True)
class Freshness:
    sla: timedelta
    run_id: str | None = None
    published_at: datetime | None = None
    as_of_date: str | None = None
    age: timedelta | None = None

    @property
    def stale(self) -> bool:
        return self.age is None or self.age > self.sla

    def describe(self) -> str:
        sla = f"SLA {self.sla.total_seconds() / 3600:g} h"
        if self.published_at is None:
            return f"nothing published yet ({sla})"
        age_h = self.age.total_seconds() / 3600 if self.age is not None else 0
        return (
            f"published {self.published_at:%Y-%m-%d %H:%M} UTC by run {self.run_id}, as of {self.as_of_date}; "
            f"age {age_h:.1f} h ({sla})"
        )

    def problem(self) -> str | None:
        """One line with the fix when the SLA is missed, else None."""
        if not self.stale:
            return None
        return (
            f"published data is stale: {self.describe()}; no successful publish within the SLA: look at the last "
            "run's report (reports/) and alert (alerts/), fix it and run `c360 run`"
        )


def published_freshness(settings: Settings, now: datetime | None = None) -> Freshness:
    now = now or datetime.now(UTC)
    sla = timedelta(hours=settings.publish_sla_hours)
    if not settings.published_path.exists():
        return Freshness(sla)
    with connect_published(settings.published_path) as con:
        row = con.execute(
            f"select run_id, published_at, details from {PUBLISH_LOG} order by published_at desc limit 1"
        ).fetchone()
    if row is None:
        return Freshness(sla)
    run_id, published_at, details = row
    published_at = published_at.astimezone(UTC)
    as_of = (json.loads(details) if isinstance(details, str) else details or {}).get("as_of_date")
    return Freshness(sla, run_id, published_at, as_of, now - published_at)
