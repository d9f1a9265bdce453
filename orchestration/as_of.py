"""The run's as-of date: what "today" means for recency, freshness and "last N days" in one run.

It is a run tag (`c360/as_of_date`), so every asset and check of a run reads the same value: the CLI sets it from
`--as-of`, the schedule from the scheduled day, a launch from the UI may. Without the tag it resolves as below: for
your own data (`files`, `postgres`) it is the newest date in the data, so a historical export runs without flags and
its marts, recency and freshness are judged as of its last day, not today.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg

from orchestration.config import Settings
from orchestration.extract.landing import LandingError, read_manifest
from orchestration.warehouse import connect_file

AS_OF_TAG = "c360/as_of_date"
#: Sources holding a user's own data, whose default as-of date is the data's newest date.
OWN_DATA_SOURCES = ("files", "postgres")
#: When each raw table's rows happened (business time, not when a record was last edited): the newest of these over
#: raw is the data's newest date. UTC dates; ad reports' days are the account's.
EVENT_TIME = {
    "crm_customers": "signed_up_at",
    "crm_orders": "ordered_at",
    "crm_loyalty_events": "occurred_at",
    "crm_support_tickets": "created_at",
    "crm_nps_responses": "responded_at",
    "crm_consents": "changed_at",
    "ga4_events": "make_timestamp(event_timestamp)",
    "google_ads_campaign_stats": "segments_date",
    "meta_ads_insights": "date_start",
}


def resolve_as_of_date(requested: str, settings: Settings) -> date:
    """Explicit date > the generated dataset's end date (its `_manifest.json`) > for `files` and `postgres`, the
    newest date in raw (`newest_data_date`) > today's UTC date (a daily run's natural as-of)."""
    if requested:
        return datetime.strptime(requested, "%Y-%m-%d").date()
    try:
        end_date = read_manifest(settings.landing_dir).get("end_date")
    except LandingError:  # real sources have no generator manifest
        end_date = None
    if end_date:
        return date.fromisoformat(str(end_date))
    newest = newest_data_date(settings.warehouse_path) if settings.source in OWN_DATA_SOURCES else None
    return newest or datetime.now(UTC).date()


def newest_data_date(warehouse_path: Path) -> date | None:
    """The newest business date in raw (EVENT_TIME over every raw table that has rows); None before any load."""
    if not warehouse_path.exists():
        return None
    with connect_file(warehouse_path, read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        tables = con.execute("select table_name from information_schema.tables where table_schema = 'raw'")
        present = {r[0] for r in tables.fetchall()}
        parts = [f'select max(cast({c} as date)) as d from raw."{t}"' for t, c in EVENT_TIME.items() if t in present]
        if not parts:
            return None
        return con.execute(f"select max(d) from ({' union all '.join(parts)})").fetchall()[0][0]


def run_as_of_date(run: dg.DagsterRun, settings: Settings) -> date:
    """The as-of date of this run (its tag, else the default above)."""
    return resolve_as_of_date(run.tags.get(AS_OF_TAG, ""), settings)
