"""Gate on the unpublished loads of NPS survey answers (raw.crm_nps_responses)."""

from expectations import _rules as r

SUITE_NAME = "raw_crm_nps_responses"
DATASET = ("raw", "crm_nps_responses")
SCOPE = "unpublished_loads"

FRESHNESS_DAYS = None  # survey answers trickle in; days without any are normal
VOLUME_BAND = 3.0
VOLUME_DAY = "cast(responded_at as date)"
SURVEYS = ["post_purchase", "relationship"]

TABLE_METRICS = """
    count(*) as row_count,
    count(response_id) - count(distinct response_id) as duplicate_response_ids,
    max(responded_at) as max_responded_at
"""


def row_rules() -> list:
    return [
        r.columns_present(["response_id", "customer_id", "responded_at", "score"]),
        r.not_null("response_id", "response_id is the merge key."),
        r.well_formed_id("response_id"),
        r.not_null("customer_id", "An answer without a customer cannot be linked to their orders or tickets."),
        r.not_null("score", "An answer without a score carries no NPS."),
        r.between("score", "NPS answers are 0..10; another value is a different scale (e.g. 1..5) or an error.", 0, 10),
        r.in_set("survey", SURVEYS, "NPS is reported per survey; an unknown survey would be mixed into the wrong one."),
    ]


def table_rules() -> list:
    return [
        # No not_empty rule: answers are sparse, a day without any is normal.
        r.no_rows_collapsed_by_key(),
        r.volume_within_recent_band(r.NEWEST_DAY_ROWS),
        r.no_duplicate_keys("duplicate_response_ids"),
        r.not_in_future("max_responded_at"),
    ]
