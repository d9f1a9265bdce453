"""Gate on the unpublished loads of marketing-consent events (raw.crm_consents: one row per change)."""

from expectations import _rules as r

SUITE_NAME = "raw_crm_consents"
DATASET = ("raw", "crm_consents")
SCOPE = "unpublished_loads"

FRESHNESS_DAYS = None  # consent changes follow signups and unsubscribes, not a daily clock
VOLUME_BAND = 3.0
VOLUME_DAY = "cast(changed_at as date)"
CHANNELS = ["email", "sms", "ad_personalisation", "profiling"]  # marketing channels and purposes
STATUSES = ["granted", "withdrawn"]

TABLE_METRICS = """
    count(*) as row_count,
    count(consent_event_id) - count(distinct consent_event_id) as duplicate_event_ids,
    max(changed_at) as max_changed_at
"""


def row_rules() -> list:
    return [
        r.columns_present(["consent_event_id", "customer_id", "channel", "status", "changed_at"]),
        r.not_null("consent_event_id", "The event id is the merge key."),
        r.well_formed_id("consent_event_id"),
        r.not_null("customer_id", "Consent belongs to a customer; an orphan change cannot be honoured."),
        r.in_set("channel", CHANNELS, "Only these channels and purposes gate outputs; another could not."),
        r.in_set("status", STATUSES, "Consent is granted or withdrawn; anything else cannot be read as either (GDPR)."),
        r.not_null("changed_at", "The current consent is the latest change; an untimed change cannot be ordered."),
    ]


def table_rules() -> list:
    return [
        # No not_empty rule: consent changes are sparse, a day without any is normal.
        r.no_rows_collapsed_by_key(),
        r.volume_within_recent_band(r.NEWEST_DAY_ROWS),
        r.no_duplicate_keys("duplicate_event_ids"),
        r.not_in_future("max_changed_at"),
    ]
