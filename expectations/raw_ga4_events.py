"""Gate on each newly loaded batch of GA4 web events (raw.ga4_events, latest `_load_id`)."""

from expectations import _rules as r

SUITE_NAME = "raw_ga4_events"
DATASET = ("raw", "ga4_events")
SCOPE = "unpublished_loads"

FRESHNESS_DAYS = 3  # GA4 exports land daily; events may arrive up to 3 days late
VOLUME_BAND = 3.0
VOLUME_DAY = "cast(make_timestamptz(event_timestamp) as date)"

TABLE_METRICS = """
    count(*) as row_count,
    count(event_id) - count(distinct event_id) as duplicate_event_ids,
    max(make_timestamptz(event_timestamp)) as max_event_at
"""


def row_rules() -> list:
    return [
        r.columns_present(["event_id", "event_timestamp", "event_name", "user_pseudo_id", "ga_session_id"]),
        r.not_null("event_id", "The event id is the merge key."),
        r.not_null("event_timestamp", "Events without a time cannot be sessionised."),
        r.not_null("event_name", "Unnamed events cannot be classified (page_view, purchase, ...)."),
        r.not_null("user_pseudo_id", "The client id is what sessions and identity stitching hang on."),
        r.well_formed_id("user_pseudo_id"),
    ]


def table_rules() -> list:
    return [
        r.not_empty(),
        r.no_rows_collapsed_by_key(),
        r.volume_within_recent_band(r.NEWEST_DAY_ROWS),
        r.no_duplicate_keys("duplicate_event_ids"),
        r.not_in_future("max_event_at"),
        r.fresh("max_event_at"),
    ]
