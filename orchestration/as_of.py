"""The run's as-of date: what "today" means for recency, freshness and "last N days" in one run.

It is a run tag (`c360/as_of_date`), so every asset and check of a run reads the same value: the CLI sets it from
`--as-of`, the schedule from the scheduled day, a launch from the UI may. Without the tag it resolves as below.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import dagster as dg

from orchestration.config import Settings
from orchestration.extract.landing import LandingError, read_manifest

AS_OF_TAG = "c360/as_of_date"


def resolve_as_of_date(requested: str, settings: Settings) -> date:
    """Explicit date > the generated dataset's end date > today's UTC date (a daily run's natural as-of)."""
    if requested:
        return datetime.strptime(requested, "%Y-%m-%d").date()
    try:
        end_date = read_manifest(settings.landing_dir).get("end_date")
    except LandingError:  # real sources have no generator manifest
        end_date = None
    return date.fromisoformat(str(end_date)) if end_date else datetime.now(UTC).date()


def run_as_of_date(run: dg.DagsterRun, settings: Settings) -> date:
    """The as-of date of this run (its tag, else the default above)."""
    return resolve_as_of_date(run.tags.get(AS_OF_TAG, ""), settings)
