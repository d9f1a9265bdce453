"""Gate on the CLV mart before it is published: probabilities in range, non-negative values, every buyer scored."""

from expectations import _rules as r

SUITE_NAME = "mart_clv"
DATASET = ("marts", "mart_clv")
SCOPE = "table"

FRESHNESS_DAYS = None
VOLUME_BAND = None
#: A 12-month CLV above this (reporting currency) for one customer signals a model blow-up, not a whale.
MAX_CUSTOMER_CLV = 1_000_000

TABLE_METRICS = """
    count(*) as row_count,
    count(*) - count(distinct customer_key) as duplicate_customer_keys,
    count(*) - (select count(*) from marts.mart_rfm) as rows_minus_scored_customers,
    sum(historical_net_revenue_reporting) - (
        select sum(net_revenue_reporting) from marts.fct_orders where order_date <= {as_of}
    ) as historical_revenue_minus_fct_orders,
    count(*) filter (
        where historical_gross_margin_reporting is not null and customer_key in (
            select orders.customer_key
            from intermediate.int_orders_converted as orders
            inner join intermediate.int_orders_costed as costs on orders.order_id = costs.order_id
            where not orders.is_refunded and orders.order_date <= {as_of} and costs.cost_of_goods_reporting is null
        )
    ) as margins_despite_unknown_cost
"""


def row_rules() -> list:
    return [
        r.not_null("customer_key", "The mart's grain: one row per customer key."),
        r.between("probability_alive", "P(alive) is a probability.", 0, 1),
        r.between("churn_risk", "Churn risk is a probability.", 0, 1),
        r.between("expected_purchases_next_12_months", "Expected purchases are never negative.", min_value=0),
        r.between(
            "predicted_clv_12_months_reporting",
            "CLV is never negative and a single customer's cannot be astronomically large.",
            0,
            MAX_CUSTOMER_CLV,
        ),
    ]


def table_rules() -> list:
    return [
        r.not_empty(),
        r.no_duplicate_keys("duplicate_customer_keys"),
        r.reconciles("rows_minus_scored_customers", 0, "Every customer with a completed order gets a prediction."),
        r.reconciles("historical_revenue_minus_fct_orders", 0.01, "Historical CLV adds up to net revenue."),
        r.metric_between(
            "margins_despite_unknown_cost",
            "An unknown product cost gives an unknown (null) margin: a margin over an order without a known cost "
            "would count that cost as 0 and overstate it.",
            max_value=0,
        ),
    ]
