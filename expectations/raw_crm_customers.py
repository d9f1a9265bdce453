"""Gate on each newly loaded batch of CRM customers (raw.crm_customers rows of the latest `_load_id`)."""

from expectations import _rules as r

SUITE_NAME = "raw_crm_customers"
DATASET = ("raw", "crm_customers")
SCOPE = "unpublished_loads"

FRESHNESS_DAYS = 7
VOLUME_BAND = 3.0
VOLUME_DAY = "cast(signed_up_at as date)"
#: Share of non-null emails that must look like an address; below it the export's email column is broken.
EMAIL_VALID_SHARE = 0.95

TABLE_METRICS = """
    count(*) as row_count,
    count(customer_id) - count(distinct customer_id) as duplicate_customer_ids,
    max(signed_up_at) as max_signed_up_at,
    max(updated_at) as max_updated_at
"""


def row_rules() -> list:
    return [
        r.columns_present(["customer_id", "email", "country_code", "signed_up_at", "updated_at"]),
        r.not_null("customer_id", "customer_id is the merge key and the root of every customer's history."),
        r.well_formed_id("customer_id"),
        r.matches(
            "email",
            r.EMAIL_PATTERN_PADDED,
            "Emails link CRM records and web logins; a low valid share means a broken column, not dirty rows. "
            "Surrounding whitespace is allowed: staging trims it, so such an address is usable, not malformed.",
            mostly=EMAIL_VALID_SHARE,
        ),
        r.not_null("signed_up_at", "Signup time anchors cohorts and lifecycle stages."),
    ]


def table_rules() -> list:
    return [
        r.not_empty(),
        r.no_rows_collapsed_by_key(),
        r.volume_within_recent_band(r.NEWEST_DAY_ROWS),
        r.no_duplicate_keys("duplicate_customer_ids"),
        r.not_in_future("max_signed_up_at"),
        r.not_in_future("max_updated_at"),
        r.fresh("max_updated_at"),
    ]
