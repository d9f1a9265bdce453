"""Gate on the marketing performance mart before it is published: grain, ratios sane, spend and revenue reconciled."""

from expectations import _rules as r

SUITE_NAME = "mart_marketing_performance"
DATASET = ("marts", "mart_marketing_performance")
SCOPE = "table"

FRESHNESS_DAYS = None
VOLUME_BAND = None
#: Sums of DECIMAL cents reconcile exactly; the tolerance only absorbs float rendering of the metric.
MONEY_TOLERANCE = 0.01

TABLE_METRICS = """
    count(*) as row_count,
    count(*) - count(distinct marketing_performance_key) as duplicate_keys,
    sum(spend_reporting) - (
        select coalesce(sum(spend_reporting), 0) from marts.fct_ad_spend_daily where spend_reporting_date <= {as_of}
    ) as spend_minus_fct_ad_spend,
    sum(last_touch_revenue_reporting) - (
        select coalesce(sum(net_revenue_reporting), 0) from marts.fct_orders where order_date <= {as_of}
    ) as last_touch_revenue_minus_fct_orders,
    sum(first_touch_revenue_reporting) - (
        select coalesce(sum(net_revenue_reporting), 0) from marts.fct_orders where order_date <= {as_of}
    ) as first_touch_revenue_minus_fct_orders,
    count(*) filter (where not is_paid and spend_reporting != 0) as unpaid_rows_with_spend
"""


def row_rules() -> list:
    why_ratio = "Spend, clicks and revenue are never negative, so no ratio of them can be."
    return [
        r.not_null("marketing_performance_key", "The mart's grain: one row per day x platform x campaign x channel."),
        r.not_null("date_day", "Every row belongs to a day."),
        r.between("spend_reporting", "Spend is never negative.", 0),
        r.between("click_through_rate", "A click needs an impression: CTR is a share.", 0, 1),
        r.between("cost_per_click_reporting", why_ratio, 0),
        r.between("roas_last_touch", why_ratio, 0),
        r.between("roas_first_touch", why_ratio, 0),
        r.between("customer_acquisition_cost_reporting", why_ratio, 0),
        r.between("last_touch_revenue_reporting", "Attributed net revenue excludes refunds: never negative.", 0),
    ]


def table_rules() -> list:
    return [
        r.not_empty(),
        r.no_duplicate_keys("duplicate_keys"),
        r.reconciles("spend_minus_fct_ad_spend", MONEY_TOLERANCE, "All ad spend to the as-of date is in the mart."),
        r.reconciles(
            "last_touch_revenue_minus_fct_orders",
            MONEY_TOLERANCE,
            "Last-touch attribution credits every order's revenue exactly once (unmatched ones to '(unknown)').",
        ),
        r.reconciles(
            "first_touch_revenue_minus_fct_orders",
            MONEY_TOLERANCE,
            "First-touch attribution credits every order's revenue exactly once.",
        ),
        r.metric_between("unpaid_rows_with_spend", "Spend belongs to ad platforms' rows only.", 0, 0),
    ]
