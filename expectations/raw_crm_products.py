"""Gate on each newly loaded batch of the product catalogue (raw.crm_products, latest `_load_id`)."""

from expectations import _rules as r

SUITE_NAME = "raw_crm_products"
DATASET = ("raw", "crm_products")
SCOPE = "unpublished_loads"

FRESHNESS_DAYS = None  # a catalogue can stay unchanged for weeks
VOLUME_BAND = 2.0
MAX_LIST_PRICE_USD = 50_000

TABLE_METRICS = """
    count(*) as row_count,
    count(product_id) - count(distinct product_id) as duplicate_product_ids
"""


def row_rules() -> list:
    return [
        r.columns_present(["product_id", "product_name", "category", "list_price_usd", "unit_cost_usd"]),
        r.not_null("product_id", "product_id is the key order lines join on."),
        r.well_formed_id("product_id"),
        r.between("list_price_usd", "Prices are positive and plausible.", min_value=0.01, max_value=MAX_LIST_PRICE_USD),
        r.between("unit_cost_usd", "Costs feed margin and CLV; negative cost is an error.", min_value=0),
    ]


def table_rules() -> list:
    return [
        r.not_empty(),
        r.no_rows_collapsed_by_key(),
        r.volume_within_recent_band(),
        r.no_duplicate_keys("duplicate_product_ids"),
    ]
