"""Gate on each newly loaded batch of loyalty ledger entries (raw.crm_loyalty_events, latest `_load_id`)."""

from expectations import _rules as r

SUITE_NAME = "raw_crm_loyalty_events"
DATASET = ("raw", "crm_loyalty_events")
SCOPE = "unpublished_loads"

FRESHNESS_DAYS = 7
VOLUME_BAND = 3.0
VOLUME_DAY = "cast(occurred_at as date)"
MAX_POINTS_PER_EVENT = 100_000
EVENT_TYPES = ["earn", "redeem", "expire", "reversal"]  # the programme: simulator/generator/loyalty.py

TABLE_METRICS = """
    count(*) as row_count,
    count(loyalty_event_id) - count(distinct loyalty_event_id) as duplicate_event_ids,
    max(occurred_at) as max_occurred_at
"""


def row_rules() -> list:
    return [
        r.columns_present(["loyalty_event_id", "customer_id", "event_type", "points", "occurred_at"]),
        r.not_null("loyalty_event_id", "The ledger entry id is the merge key."),
        r.not_null("customer_id", "Points belong to a member; orphan entries distort the points liability."),
        r.in_set("event_type", EVENT_TYPES, "Balance logic knows only these entry types."),
        r.between(
            "points",
            "Single entries beyond this are data errors that would inflate the points liability.",
            -MAX_POINTS_PER_EVENT,
            MAX_POINTS_PER_EVENT,
        ),
        r.not_null("occurred_at", "Entries without a time cannot be placed in a balance as of a date."),
    ]


def table_rules() -> list:
    return [
        r.not_empty(),
        r.no_rows_collapsed_by_key(),
        r.volume_within_recent_band(r.NEWEST_DAY_ROWS),
        r.no_duplicate_keys("duplicate_event_ids"),
        r.not_in_future("max_occurred_at"),
        r.fresh("max_occurred_at"),
    ]
