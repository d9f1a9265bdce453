"""Gate on the customer 360 mart before it is published: grain, ranges, and totals reconciled to the facts."""

from expectations import _rules as r

SUITE_NAME = "mart_customer_360"
DATASET = ("marts", "mart_customer_360")
SCOPE = "table"

FRESHNESS_DAYS = None
VOLUME_BAND = None
#: Revenue may differ from fct_orders by rounding only (cents).
REVENUE_TOLERANCE = 0.01

TABLE_METRICS = """
    count(*) as row_count,
    count(*) - count(distinct customer_key) as duplicate_customer_keys,
    count(*) - (select count(*) from marts.dim_customer) as rows_minus_dim_customer,
    coalesce(sum(net_revenue_reporting), 0) - (
        select coalesce(sum(net_revenue_reporting), 0) from marts.fct_orders where order_date <= {as_of}
    ) as revenue_minus_fct_orders,
    sum(completed_order_count) - (
        select count(*) from marts.fct_orders where not is_refunded and order_date <= {as_of}
    ) as completed_orders_minus_fct_orders,
    sum(support_ticket_count) - (
        select count(*) from marts.fct_support_tickets where created_date <= {as_of}
    ) as support_tickets_minus_fct_support_tickets
"""


def row_rules() -> list:
    return [
        r.not_null("customer_key", "The mart's grain: one row per customer key."),
        r.matches(
            "email_pseudonym",
            r"^[0-9a-f]{64}$",
            "Only a keyed pseudonym (64 hex) may leave the warehouse; anything else could be a raw email (PII).",
        ),
        r.between("order_count", "Counts are never negative.", min_value=0),
        r.between("net_revenue_reporting", "Net revenue excludes refunds, so it is never negative.", min_value=0),
        r.between("loyalty_points_balance", "Members cannot redeem more points than they earned.", min_value=0),
        r.between("web_sessions_last_30_days", "Counts are never negative.", min_value=0),
        r.between("average_csat_score", "CSAT is rated 1 to 5.", min_value=1, max_value=5),
        r.between("latest_nps_score", "NPS answers are 0 to 10.", min_value=0, max_value=10),
    ]


def table_rules() -> list:
    return [
        r.not_empty(),
        r.no_duplicate_keys("duplicate_customer_keys"),
        r.reconciles("rows_minus_dim_customer", 0, "Every customer in dim_customer has exactly one 360 row."),
        r.reconciles("revenue_minus_fct_orders", REVENUE_TOLERANCE, "Customer revenue must add up to the orders fact."),
        r.reconciles("completed_orders_minus_fct_orders", 0, "Customer order counts must add up to the orders fact."),
        r.reconciles(
            "support_tickets_minus_fct_support_tickets", 0, "Customer ticket counts must add up to the tickets fact."
        ),
    ]
