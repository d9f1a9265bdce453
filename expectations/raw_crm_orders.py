"""Gate on each newly loaded batch of CRM orders (raw.crm_orders rows of the latest `_load_id`)."""

from expectations import _rules as r

SUITE_NAME = "raw_crm_orders"
DATASET = ("raw", "crm_orders")
SCOPE = "unpublished_loads"

FRESHNESS_DAYS = 2
VOLUME_BAND = 3.0
VOLUME_DAY = "cast(ordered_at as date)"
#: A single order above this total (original currency) is far outside the business and likely a unit error.
MAX_ORDER_TOTAL = 100_000
STATUSES = ["completed", "refunded"]

TABLE_METRICS = """
    count(*) as row_count,
    count(order_id) - count(distinct order_id) as duplicate_order_ids,
    max(ordered_at) as max_ordered_at,
    max(updated_at) as max_updated_at
"""


def row_rules() -> list:
    return [
        r.columns_present(["order_id", "customer_id", "ordered_at", "currency", "order_total", "status"]),
        r.not_null("order_id", "order_id is the merge key; a null key cannot be deduplicated or joined."),
        r.well_formed_id("order_id"),
        r.not_null("customer_id", "An order without a customer cannot reach the customer 360 or RFM."),
        r.not_null("ordered_at", "Orders without a timestamp cannot be placed in any day or cohort."),
        r.between(
            "order_total",
            "Totals are non-negative (refunds are a status, not a negative order) and plausible.",
            min_value=0,
            max_value=MAX_ORDER_TOTAL,
        ),
        r.convertible_currency("currency"),
        r.in_set("status", STATUSES, "Net revenue logic knows only these statuses; a new one needs a decision."),
    ]


def table_rules() -> list:
    return [
        r.not_empty(),
        r.no_rows_collapsed_by_key(),
        r.volume_within_recent_band(r.NEWEST_DAY_ROWS),
        r.no_duplicate_keys("duplicate_order_ids"),
        r.not_in_future("max_ordered_at"),
        r.not_in_future("max_updated_at"),
        r.fresh("max_ordered_at"),
    ]
