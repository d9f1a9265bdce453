"""The run's as-of date: what "today" means for recency, freshness and "last N days" in one run."""

from __future__ import annotations

from datetime import UTC, date, datetime

from orchestration.config import Settings
from orchestration.sources.landing import LandingError, read_manifest

DBT_OP = "dbt_warehouse"


def resolve_as_of_date(requested: str, settings: Settings) -> date:
    """Explicit date > the generated dataset's end date > today's UTC date (a daily run's natural as-of)."""
    if requested:
        return datetime.strptime(requested, "%Y-%m-%d").date()
    try:
        end_date = read_manifest(settings.landing_dir).get("end_date")
    except LandingError:  # real sources have no generator manifest
        end_date = None
    return date.fromisoformat(str(end_date)) if end_date else datetime.now(UTC).date()


def requested_as_of(run_config: dict) -> str:
    """The as-of date a run was launched with (the dbt op's config), or "" when none was given."""
    return run_config.get("ops", {}).get(DBT_OP, {}).get("config", {}).get("as_of_date", "") or ""
