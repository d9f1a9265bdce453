"""Gate on the loyalty mart before it is published: tiers known, balances consistent, liability valued right."""

from expectations import _rules as r

SUITE_NAME = "mart_loyalty"
DATASET = ("marts", "mart_loyalty")
SCOPE = "table"

FRESHNESS_DAYS = None
VOLUME_BAND = None
TIERS = ["Bronze", "Silver", "Gold", "Platinum"]
#: USD value of one point (5 USD per block of 500 points; dbt vars loyalty_redemption_block_*).
POINT_VALUE_USD = 5 / 500
#: Per-member liability is rounded to cents once: the total may drift by half a cent per member at most.
LIABILITY_TOLERANCE_PER_MEMBER = 0.005

TABLE_METRICS = f"""
    count(*) as row_count,
    count(*) - count(distinct customer_key) as duplicate_customer_keys,
    count(*) - (
        select count(distinct customer_key) from intermediate.int_loyalty_events_with_expiry
    ) as rows_minus_members_in_ledger,
    count(*) filter (
        where points_balance != points_earned - points_reversed - points_redeemed - points_expired
    )
        as rows_with_unbalanced_points,
    abs(
        sum(points_liability_reporting) - sum(points_balance) * {POINT_VALUE_USD} * (
            select case when reporting.currency = 'USD' then 1 else (
                select usd.rate_to_reporting from intermediate.int_fx_rates_daily as usd
                where usd.currency = 'USD' and usd.rate_date = reporting.as_of_date
            ) end
            from (select any_value(as_of_date) as as_of_date, any_value(reporting_currency) as currency
                from marts.mart_loyalty) as reporting
        )
    ) / count(*) as liability_drift_per_member
"""


def row_rules() -> list:
    return [
        r.not_null("customer_key", "The mart's grain: one row per loyalty member."),
        r.in_set("loyalty_tier", TIERS, "Every member holds one of the programme's four tiers."),
        r.between("points_balance", "A balance below zero means points were redeemed or expired twice.", 0),
        r.between("points_earned", "Points are earned on orders, never negative.", 0),
        r.between("points_reversed", "Points a refund took back are reported as a positive amount.", 0),
        r.between("points_redeemed", "Redeemed points are reported as a positive amount.", 0),
        r.between("points_expired", "Expired points are reported as a positive amount.", 0),
        r.between("points_liability_reporting", "An outstanding liability is never negative.", 0),
        r.between("tier_points_trailing_365_days", "The tier basis is points earned less reversed, never negative.", 0),
    ]


def table_rules() -> list:
    return [
        r.not_empty(),
        r.no_duplicate_keys("duplicate_customer_keys"),
        r.reconciles(
            "rows_minus_members_in_ledger", 0, "Every customer with a ledger entry to the as-of date is a member."
        ),
        r.metric_between(
            "rows_with_unbalanced_points",
            "Balance must equal earned - reversed - redeemed - expired for every member.",
            0,
            0,
        ),
        r.metric_between(
            "liability_drift_per_member",
            "The liability BI reports must be the balances valued at the point value (cent rounding aside).",
            0,
            LIABILITY_TOLERANCE_PER_MEMBER,
        ),
    ]
