"""Gate on each newly loaded batch of CRM order lines (raw.crm_order_lines, latest `_load_id`)."""

from expectations import _rules as r

SUITE_NAME = "raw_crm_order_lines"
DATASET = ("raw", "crm_order_lines")
SCOPE = "unpublished_loads"

FRESHNESS_DAYS = None  # lines carry no timestamp; their orders are checked for freshness
VOLUME_BAND = 3.0
VOLUME_DAY = "cast(updated_at as date)"  # lines are delivered with their order
MAX_QUANTITY = 1_000

TABLE_METRICS = """
    count(*) as row_count,
    count(order_line_id) - count(distinct order_line_id) as duplicate_order_line_ids
"""


def row_rules() -> list:
    return [
        r.columns_present(["order_line_id", "order_id", "product_id", "quantity", "unit_price", "line_total"]),
        r.not_null("order_line_id", "order_line_id is the merge key."),
        r.not_null("order_id", "A line without its order cannot be attributed to any customer."),
        r.not_null("product_id", "A line without a product breaks category and margin reporting."),
        r.between("quantity", "Quantities are whole positive units; 0 or negative is an error.", 1, MAX_QUANTITY),
        r.between("unit_price", "Unit prices are never negative (discounts are separate).", min_value=0),
    ]


def table_rules() -> list:
    return [
        r.not_empty(),
        r.no_rows_collapsed_by_key(),
        r.volume_within_recent_band(r.NEWEST_DAY_ROWS),
        r.no_duplicate_keys("duplicate_order_line_ids"),
    ]
