"""Orders and their lines: MBG/NBD timing and Gamma-Gamma values per person, split across duplicate records.

A refund is a later status change: the order is delivered again (same order_id, status `refunded`, new updated_at),
which is how a daily increment re-delivers an order. Test accounts place a few small orders of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from simulator.generator.common import group_cumsum, position_in_group, rng
from simulator.generator.generator_config import GeneratorConfig
from simulator.generator.people import COUNTRY_CURRENCY, People

#: Reporting currency is USD; these are the (static, first-version) rates used to price local-currency orders.
FX_TO_USD = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27}
CATEGORIES = ["apparel", "footwear", "accessories", "home", "beauty"]
N_PRODUCTS = 200
#: Refunds happen within the return window: 1..REFUND_WINDOW_DAYS after the order.
REFUND_WINDOW_DAYS = 14
LOWERCASE_CURRENCY_RATE = 0.01
TEST_ORDERS_PER_ACCOUNT = (1, 3)


@dataclass(frozen=True)
class Orders:
    """Every order of the world in id order (order i -> O{i+1}); person -1 for test accounts."""

    person: np.ndarray
    record: np.ndarray  # customer record row
    day: np.ndarray  # ordered at (internal days)
    refund_day: np.ndarray  # inf when never refunded
    usd: np.ndarray  # order total in USD (exact: total_local * rate)
    total: np.ndarray  # in the order's currency
    currency: np.ndarray  # as delivered (some lower-case)
    lines: pa.Table  # crm_order_lines minus updated_at
    line_order: np.ndarray  # order row per line
    dropout_day: np.ndarray  # per signed-up person: the day they dropped out right after a purchase (inf: never)

    @property
    def refunded(self) -> np.ndarray:
        return np.isfinite(self.refund_day)


def products(config: GeneratorConfig) -> pa.Table:
    g = rng(config.seed, 2)
    n = N_PRODUCTS
    price = np.round(np.exp(g.normal(np.log(30), 0.7, n)), 2) + 0.99
    category = g.choice(np.array(CATEGORIES), n)
    return pa.table(
        {
            "product_id": np.char.add("P", np.char.zfill(np.arange(1, n + 1).astype(str), 5)),
            "sku": np.char.add("SKU-", np.char.zfill(g.permutation(n * 37)[:n].astype(str), 6)),
            "product_name": np.char.add(
                np.char.add(np.char.capitalize(category), " item "), np.arange(1, n + 1).astype(str)
            ),
            "category": category,
            "list_price_usd": np.round(price, 2),
            "unit_cost_usd": np.round(price * g.uniform(0.35, 0.6, n), 2),
        }
    )


def _affordable_product(list_price: np.ndarray, budget: np.ndarray, draw: np.ndarray) -> np.ndarray:
    """Product index per line: `draw` (uniform over the catalogue) rescaled onto the products whose list price is
    at most the line's budget, or the cheapest product when none is."""
    by_price = np.argsort(list_price, kind="stable")
    affordable = np.maximum(1, np.searchsorted(list_price[by_price], budget, side="right"))
    return by_price[draw * affordable // len(list_price)]


def _purchases(config: GeneratorConfig, people: People, g: np.random.Generator) -> tuple[np.ndarray, ...]:
    """(person, day, true USD value) of every purchase by a real person, MBG/NBD + Gamma-Gamma; and each signed-up
    person's dropout day (inf: never bought, or still alive at the end of the world)."""
    truth, world = config.truth, config.universe_days
    n = people.n_signed
    first = people.signup_day + g.exponential(7.0, n)
    buys = (g.random(n) < truth.share_of_signups_who_buy) & (first < world)
    buyer = np.flatnonzero(buys)
    first = first[buyer]
    m = len(buyer)
    lam = g.gamma(truth.r, 1.0 / truth.alpha, m)
    p_drop = g.beta(truth.a, truth.b, m)
    # MBG/NBD (Batislam et al. 2007): the customer drops out with probability p right after every purchase, the first
    # one included, so the number of repeats before dropping out is Geometric(p) on {0, 1, ...}: a one-time buyer may
    # be gone for good, as at a real retailer (under BG/NBD, on {1, 2, ...}, every one-time buyer stayed alive).
    max_repeats = g.geometric(p_drop) - 1
    expected = lam * (world - first)
    cap = np.ceil(expected + 6 * np.sqrt(expected) + 10).astype(np.int64)
    draws = np.minimum(max_repeats, cap)
    gaps = g.exponential(1.0, int(draws.sum())) / np.repeat(lam, draws)
    repeat_day = np.repeat(first, draws) + group_cumsum(gaps, draws)
    owner = np.repeat(np.arange(m), draws)
    keep = repeat_day < world
    # Dropout happens right after the last purchase the customer lives to make: the first one when max_repeats is
    # 0, else the max_repeats-th repeat (never within the world when that is past its end or beyond the cap).
    last_purchase = first.copy()
    repeats = draws > 0
    last_purchase[repeats] = repeat_day[np.cumsum(draws)[repeats] - 1]
    drops = (draws == max_repeats) & (last_purchase < world)
    dropout_day = np.full(people.n_signed, np.inf)
    dropout_day[buyer] = np.where(drops, last_purchase, np.inf)
    owner = np.concatenate([np.arange(m), owner[keep]])
    day = np.concatenate([first, repeat_day[keep]])
    nu = g.gamma(truth.q, 1.0 / truth.gamma, m)
    value = g.gamma(truth.p, 1.0 / nu[owner])
    return buyer[owner], day, value, dropout_day


def make_orders(config: GeneratorConfig, people: People, catalogue: pa.Table) -> Orders:
    g = rng(config.world_seed, 3)
    records = people.records
    person, day, usd_target, dropout_day = _purchases(config, people, g)

    # Test accounts: a few small orders soon after their signup.
    test_rows = np.flatnonzero(records.kind == 2)
    n_test_orders = g.integers(TEST_ORDERS_PER_ACCOUNT[0], TEST_ORDERS_PER_ACCOUNT[1] + 1, len(test_rows))
    test_record = np.repeat(test_rows, n_test_orders)
    test_day = records.signup_day[test_record] + g.uniform(0.01, 20, len(test_record))
    keep = test_day < config.universe_days
    test_record, test_day = test_record[keep], test_day[keep]

    # Which record an order lands on: the primary one, or (after the duplicate exists) either, at random.
    primary = records.record_of_person[person]
    dup = records.duplicate_of_person[person]
    on_dup = (dup >= 0) & (day >= records.duplicate_since[person]) & (g.random(len(person)) < 0.5)
    record = np.where(on_dup, dup, primary)

    record = np.concatenate([record, test_record])
    day = np.concatenate([day, test_day])
    person = np.concatenate([person, np.full(len(test_record), -1)])
    usd_target = np.concatenate([usd_target, g.uniform(1.0, 5.0, len(test_record))])
    currency = np.concatenate([COUNTRY_CURRENCY[people.country[person[person >= 0]]], np.full(len(test_record), "USD")])
    sort = np.lexsort((record, day))
    record, day, person, usd_target, currency = record[sort], day[sort], person[sort], usd_target[sort], currency[sort]
    n_orders = len(day)
    rate = np.select([currency == c for c in FX_TO_USD], list(FX_TO_USD.values()))

    # Lines: 1-4 products per order, quantities chosen so the basket at list price approximates the order's true
    # (Gamma-Gamma) value; one per-order price factor (a discount or surcharge carried by the unit prices) then makes
    # the order total equal that value to the cent, so spend really follows the Gamma-Gamma process.
    # Prices stay above unit cost (unit cost is 35-60% of list price): an order has no more lines than its value
    # buys of the cheapest product, a line buys a product it can afford (its random draw picks among the products
    # listed at or below its share of the order value, the cheapest when none is) and as many units as fit (floor),
    # so the price factor is a surcharge more often than a discount (0.68-1.99 x list on XS, median 1.16) and never
    # prices a real customer's line below cost on XS or S. Before, an expensive product in a small order was
    # discounted below its cost (1,060 of 2,852 XS lines, 21,207 of 49,666 S lines). Lines are dropped after all
    # draws are made, so every later draw (refunds, currencies) is as before and order totals still equal the true
    # (Gamma-Gamma) values to the cent.
    n_lines = g.integers(1, 5, n_orders)
    line_order = np.repeat(np.arange(n_orders), n_lines)
    draw = g.integers(0, catalogue.num_rows, len(line_order))
    share = g.dirichlet(np.ones(4), n_orders)[line_order, position_in_group(n_lines)]
    catalogue_price = catalogue["list_price_usd"].to_numpy()
    affordable_lines = np.maximum(1, np.floor(usd_target / catalogue_price.min()))
    kept = position_in_group(n_lines) < affordable_lines[line_order]
    line_order, draw, share = line_order[kept], draw[kept], share[kept]
    share = share / np.bincount(line_order, weights=share, minlength=n_orders)[line_order]
    product_idx = _affordable_product(catalogue_price, usd_target[line_order] * share, draw)
    list_price = catalogue_price[product_idx]
    quantity = np.maximum(1, np.floor(usd_target[line_order] * share / list_price)).astype(np.int64)
    basket_at_list = np.bincount(line_order, weights=quantity * list_price, minlength=n_orders)
    price_factor = usd_target / basket_at_list
    unit_price = np.round(list_price * price_factor[line_order] / rate[line_order], 2)
    line_total = np.round(quantity * unit_price, 2)
    total = np.round(np.bincount(line_order, weights=line_total, minlength=n_orders), 2)

    refunded = (g.random(n_orders) < config.truth.refund_rate) & (person >= 0)
    refund_day = np.where(refunded, day + g.uniform(1, REFUND_WINDOW_DAYS, n_orders), np.inf)
    lower = g.random(n_orders) < LOWERCASE_CURRENCY_RATE
    delivered_currency = np.where(lower, np.char.lower(currency), currency)
    order_ids = np.char.add("O", np.char.zfill(np.arange(1, n_orders + 1).astype(str), 8))
    lines = pa.table(
        {
            "order_line_id": np.char.add("L", np.char.zfill(np.arange(1, len(line_order) + 1).astype(str), 9)),
            "order_id": pa.array(order_ids).take(pa.array(line_order)),
            "product_id": catalogue["product_id"].take(pa.array(product_idx)),
            "quantity": quantity,
            "unit_price": unit_price,
            "line_total": line_total,
        }
    )
    return Orders(
        person=person,
        record=record,
        day=day,
        refund_day=refund_day,
        usd=total * rate,
        total=total,
        currency=delivered_currency,
        lines=lines,
        line_order=line_order,
        dropout_day=dropout_day,
    )
