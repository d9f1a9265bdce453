"""Gate on the RFM mart before it is published: scores in range, every customer segmented, totals reconciled."""

from expectations import _rules as r

SUITE_NAME = "mart_rfm"
DATASET = ("marts", "mart_rfm")
SCOPE = "table"

FRESHNESS_DAYS = None
VOLUME_BAND = None
REVENUE_TOLERANCE = 0.01
SEGMENTS = [
    "Champions", "Loyal", "Potential Loyalist", "New", "Promising", "Need Attention",
    "About to Sleep", "At Risk", "Can't Lose Them", "Hibernating", "Lost",
]  # fmt: skip

TABLE_METRICS = """
    count(*) as row_count,
    count(*) - count(distinct customer_key) as duplicate_customer_keys,
    count(*) - (
        select count(distinct customer_key) from marts.fct_orders where not is_refunded and order_date <= {as_of}
    ) as rows_minus_buying_customers,
    sum(monetary_reporting) - (
        select sum(net_revenue_reporting) from marts.fct_orders where order_date <= {as_of}
    ) as monetary_minus_fct_orders
"""


def row_rules() -> list:
    return [
        r.not_null("customer_key", "The mart's grain: one row per customer key."),
        r.between("recency_score", "Quintile scores are 1..5.", 1, 5),
        r.between("frequency_score", "Quintile scores are 1..5.", 1, 5),
        r.between("monetary_score", "Quintile scores are 1..5.", 1, 5),
        r.between("recency_days", "The last order cannot be after the as-of date.", min_value=0),
        r.between("frequency", "Only customers with a completed order are scored.", min_value=1),
        r.in_set("rfm_segment", SEGMENTS, "Every scored customer falls in one of the documented segments."),
    ]


def table_rules() -> list:
    return [
        r.not_empty(),
        r.no_duplicate_keys("duplicate_customer_keys"),
        r.reconciles("rows_minus_buying_customers", 0, "Exactly the customers with a completed order are scored."),
        r.reconciles("monetary_minus_fct_orders", REVENUE_TOLERANCE, "Monetary values add up to net revenue."),
    ]
