"""Seeded, vectorised generator of a fictional retailer's CRM, web-analytics and ad-platform data.

Why a generator: the product must run end to end on a fresh machine with no company data, and tests need data whose
true structure is known. Purchases follow a BG/NBD process (Fader, Hardie & Lee 2005) and spend a Gamma-Gamma
process, so the CLV marts have something true to find. Every table is produced with NumPy array operations (no
per-row Python loops), so scale is bounded by memory, not by the interpreter.

Each table draws from its own random stream derived from the seed, so adding a column to one table does not change
the others. The same (scale, seed) always yields byte-identical tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pyarrow as pa

SECONDS_PER_DAY = 86_400

#: Reporting currency is USD; these are the (static, first-version) rates used to price local-currency orders.
FX_TO_USD = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27}
COUNTRIES = np.array(["US", "GB", "DE", "FR", "NL"])
COUNTRY_WEIGHTS = np.array([0.60, 0.15, 0.10, 0.10, 0.05])
COUNTRY_CURRENCY = {"US": "USD", "GB": "GBP", "DE": "EUR", "FR": "EUR", "NL": "EUR"}

#: Traffic channels a web session can come from: (source, medium, platform that pays for it or "").
CHANNELS = [
    ("google", "cpc", "google_ads"),
    ("facebook", "paid_social", "meta_ads"),
    ("newsletter", "email", ""),
    ("google", "organic", ""),
    ("(direct)", "(none)", ""),
]
CHANNEL_WEIGHTS = np.array([0.25, 0.20, 0.15, 0.20, 0.20])

FIRST_NAMES = np.array(
    [
        "Ada",
        "Ben",
        "Chloe",
        "David",
        "Emma",
        "Farid",
        "Grace",
        "Hugo",
        "Ines",
        "Jon",
        "Kemi",
        "Liam",
        "Maya",
        "Noah",
        "Olga",
        "Pavel",
        "Quinn",
        "Rosa",
        "Sven",
        "Tara",
    ]
)
LAST_NAMES = np.array(
    [
        "Smith",
        "Jones",
        "Garcia",
        "Müller",
        "Dubois",
        "Rossi",
        "Novak",
        "Okafor",
        "Tanaka",
        "Silva",
        "Brown",
        "Jansen",
        "Kowalski",
        "Nguyen",
        "Larsen",
        "Haddad",
    ]
)
CATEGORIES = np.array(["apparel", "footwear", "accessories", "home", "beauty"])


@dataclass(frozen=True)
class Scale:
    """Size of a generated dataset."""

    customers: int
    days: int
    anonymous_visitors: int


SCALES: dict[str, Scale] = {
    "XS": Scale(customers=1_000, days=120, anonymous_visitors=1_000),
    "S": Scale(customers=10_000, days=365, anonymous_visitors=10_000),
    "M": Scale(customers=100_000, days=730, anonymous_visitors=100_000),
    "L": Scale(customers=1_000_000, days=730, anonymous_visitors=1_000_000),
}


@dataclass(frozen=True)
class TrueParameters:
    """Parameters of the processes the generator draws from (ground truth for the CLV models).

    BG/NBD: purchase rate lambda ~ Gamma(shape=r, rate=alpha) per day; dropout after each purchase p ~ Beta(a, b).
    Gamma-Gamma: per-customer spend scale nu ~ Gamma(shape=q, rate=gamma); order value z ~ Gamma(shape=p, rate=nu).
    """

    r: float = 0.9
    alpha: float = 60.0
    a: float = 0.8
    b: float = 4.0
    p: float = 6.0
    q: float = 4.0
    gamma: float = 40.0
    share_of_signups_who_buy: float = 0.7
    refund_rate: float = 0.03


DEFAULT_END_DATE = date(2026, 10, 31)


@dataclass(frozen=True)
class GeneratorConfig:
    scale: str = "S"
    seed: int = 7
    end_date: date = DEFAULT_END_DATE
    truth: TrueParameters = TrueParameters()

    @property
    def size(self) -> Scale:
        try:
            return SCALES[self.scale]
        except KeyError:
            raise ValueError(f"unknown scale {self.scale!r}; choose one of {', '.join(SCALES)}") from None

    @property
    def start(self) -> datetime:
        return datetime.combine(self.end_date, datetime.min.time(), UTC) - timedelta(days=self.size.days - 1)

    @property
    def end(self) -> datetime:
        """Exclusive end of the observation window (midnight UTC after end_date)."""
        return datetime.combine(self.end_date + timedelta(days=1), datetime.min.time(), UTC)


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, stream])


def _ts(start: datetime, days: np.ndarray) -> pa.Array:
    """Offsets in (fractional) days from `start` as a UTC microsecond timestamp array."""
    micros = (start.timestamp() * 1_000_000 + np.floor(days * SECONDS_PER_DAY) * 1_000_000).astype("int64")
    return pa.array(micros, type=pa.timestamp("us", tz="UTC"))


def _ids(prefix: str, n: int, width: int = 7) -> np.ndarray:
    return np.char.add(prefix, np.char.zfill(np.arange(1, n + 1).astype(str), width))


def _group_cumsum(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting at every group boundary (groups are consecutive runs of `counts` rows)."""
    total = np.cumsum(values)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    nonempty = counts > 0
    base = np.repeat(total[starts[nonempty]] - values[starts[nonempty]], counts[nonempty])
    return total - base


def generate(config: GeneratorConfig) -> dict[str, pa.Table]:
    """Generate every raw table of the embedded retailer, keyed by raw table name."""
    tables: dict[str, pa.Table] = {}
    customers, buyers = _customers(config)
    tables["crm_customers"] = customers
    tables["crm_products"] = _products(config)
    orders, lines = _orders(config, buyers, tables["crm_products"])
    tables["crm_orders"] = orders
    tables["crm_order_lines"] = lines
    tables["crm_loyalty_events"] = _loyalty_events(config, orders)
    campaigns = _campaigns()
    tables["ga4_events"] = _web_events(config, customers, orders, campaigns)
    google, meta = _ad_stats(config, campaigns)
    tables["google_ads_campaign_stats"] = google
    tables["meta_ads_insights"] = meta
    return tables


@dataclass(frozen=True)
class _Buyers:
    """Per-buying-customer draws shared by orders and web sessions (row i = customer index idx[i])."""

    idx: np.ndarray
    first_purchase_day: np.ndarray
    currency: np.ndarray


def _customers(config: GeneratorConfig) -> tuple[pa.Table, _Buyers]:
    rng = _rng(config.seed, 1)
    n, days = config.size.customers, config.size.days
    signup_day = np.sort(rng.uniform(0, days, n))
    country = rng.choice(COUNTRIES, n, p=COUNTRY_WEIGHTS)
    first = rng.choice(FIRST_NAMES, n)
    last = rng.choice(LAST_NAMES, n)
    ids = _ids("C", n)
    email = np.char.add(np.char.add(np.char.lower(first), "."), np.char.add(np.char.lower(ids), "@example.com"))
    phone = np.char.add("+1555", np.char.zfill(rng.integers(0, 10_000_000, n).astype(str), 7))
    channel = rng.choice(len(CHANNELS), n, p=CHANNEL_WEIGHTS)
    table = pa.table(
        {
            "customer_id": ids,
            "email": email,
            "first_name": first,
            "last_name": last,
            "phone": phone,
            "country_code": country,
            "acquisition_source": np.array([CHANNELS[c][0] for c in range(len(CHANNELS))])[channel],
            "acquisition_medium": np.array([CHANNELS[c][1] for c in range(len(CHANNELS))])[channel],
            "accepts_marketing": rng.random(n) < 0.55,
            "signed_up_at": _ts(config.start, signup_day),
            "updated_at": _ts(config.start, signup_day),
        }
    )
    buys = rng.random(n) < config.truth.share_of_signups_who_buy
    first_purchase = signup_day + rng.exponential(7.0, n)
    buys &= first_purchase < days
    idx = np.flatnonzero(buys)
    currency = np.vectorize(COUNTRY_CURRENCY.get)(country)
    return table, _Buyers(idx=idx, first_purchase_day=first_purchase[idx], currency=currency[idx])


def _products(config: GeneratorConfig) -> pa.Table:
    rng = _rng(config.seed, 2)
    n = 200
    price = np.round(np.exp(rng.normal(np.log(30), 0.7, n)), 2) + 0.99
    category = rng.choice(CATEGORIES, n)
    return pa.table(
        {
            "product_id": _ids("P", n, 5),
            "sku": np.char.add("SKU-", np.char.zfill(rng.permutation(n * 37)[:n].astype(str), 6)),
            "product_name": np.char.add(
                np.char.add(np.char.capitalize(category), " item "), np.arange(1, n + 1).astype(str)
            ),
            "category": category,
            "list_price_usd": np.round(price, 2),
            "unit_cost_usd": np.round(price * rng.uniform(0.35, 0.6, n), 2),
            "updated_at": _ts(config.start, np.zeros(n)),
        }
    )


def _orders(config: GeneratorConfig, buyers: _Buyers, products: pa.Table) -> tuple[pa.Table, pa.Table]:
    """Orders follow BG/NBD timing and Gamma-Gamma values; lines are drawn to approximate each order's value."""
    rng = _rng(config.seed, 3)
    truth, days = config.truth, config.size.days
    n = len(buyers.idx)
    lam = rng.gamma(truth.r, 1.0 / truth.alpha, n)
    p_drop = rng.beta(truth.a, truth.b, n)
    horizon = days - buyers.first_purchase_day
    # BG/NBD: dropout can happen only after a repeat purchase (the likelihood for x = 0 is exp(-lambda T)), so the
    # number of repeats a customer can make before dropping out is Geometric(p) on {1, 2, ...}.
    max_repeats = rng.geometric(p_drop)
    expected = lam * horizon
    cap = np.ceil(expected + 6 * np.sqrt(expected) + 10).astype(np.int64)
    draws = np.minimum(max_repeats, cap)
    gaps = rng.exponential(1.0, draws.sum()) / np.repeat(lam, draws)
    repeat_day = np.repeat(buyers.first_purchase_day, draws) + _group_cumsum(gaps, draws)
    owner = np.repeat(np.arange(n), draws)
    keep = repeat_day < days
    owner = np.concatenate([np.arange(n), owner[keep]])
    day = np.concatenate([buyers.first_purchase_day, repeat_day[keep]])
    order_sort = np.lexsort((owner, day))
    owner, day = owner[order_sort], day[order_sort]
    n_orders = len(owner)

    nu = rng.gamma(truth.q, 1.0 / truth.gamma, n)
    target_usd = rng.gamma(truth.p, 1.0 / nu[owner])
    currency = buyers.currency[owner]
    rate = np.vectorize(FX_TO_USD.get)(currency)

    # Lines: 1-4 products per order, quantities chosen so the basket at list price approximates the order's true
    # (Gamma-Gamma) value; one per-order price factor (a discount or surcharge carried by the unit prices) then makes
    # the order total equal that value to the cent, so spend really follows the Gamma-Gamma process.
    n_lines = rng.integers(1, 5, n_orders)
    line_order = np.repeat(np.arange(n_orders), n_lines)
    product_idx = rng.integers(0, products.num_rows, len(line_order))
    list_price = products["list_price_usd"].to_numpy()[product_idx]
    share = rng.dirichlet(np.ones(4), n_orders)[
        line_order, _group_cumsum(np.ones(len(line_order)), n_lines).astype(int) - 1
    ]
    quantity = np.maximum(1, np.round(target_usd[line_order] * share / list_price)).astype(np.int64)
    basket_at_list = np.bincount(line_order, weights=quantity * list_price, minlength=n_orders)
    price_factor = target_usd / basket_at_list
    unit_price_local = np.round(list_price * price_factor[line_order] / rate[line_order], 2)
    line_total = np.round(quantity * unit_price_local, 2)
    order_total = np.round(np.bincount(line_order, weights=line_total, minlength=n_orders), 2)

    order_ids = _ids("O", n_orders, 8)
    refunded = rng.random(n_orders) < truth.refund_rate
    customer_ids = _ids("C", config.size.customers)[buyers.idx[owner]]
    orders = pa.table(
        {
            "order_id": order_ids,
            "customer_id": customer_ids,
            "ordered_at": _ts(config.start, day),
            "currency": currency,
            "order_total": order_total,
            "status": np.where(refunded, "refunded", "completed"),
            "updated_at": _ts(config.start, np.minimum(day + refunded * 5.0, days - 1e-6)),
        }
    )
    lines = pa.table(
        {
            "order_line_id": _ids("L", len(line_order), 9),
            "order_id": order_ids[line_order],
            "product_id": products["product_id"].to_numpy()[product_idx],
            "quantity": quantity,
            "unit_price": unit_price_local,
            "line_total": line_total,
            "updated_at": orders["updated_at"].take(pa.array(line_order)),
        }
    )
    return orders, lines


def _loyalty_events(config: GeneratorConfig, orders: pa.Table) -> pa.Table:
    """Programme: 1 point per whole USD on completed orders; members redeem 500 points once they have 1,000."""
    completed = orders.filter(pa.compute.equal(orders["status"], "completed"))
    rate = np.vectorize(FX_TO_USD.get)(completed["currency"].to_numpy(zero_copy_only=False))
    points = np.floor(completed["order_total"].to_numpy() * rate).astype(np.int64)
    customer = completed["customer_id"].to_numpy(zero_copy_only=False)
    occurred = completed["ordered_at"]
    order_ids = completed["order_id"].to_numpy(zero_copy_only=False)

    # A single redemption of 500 points at the order on which a member's running balance first reaches 1,000.
    sort = np.lexsort((occurred.to_numpy().astype("int64"), customer))
    cust_sorted, pts_sorted = customer[sort], points[sort]
    boundaries = np.concatenate([[True], cust_sorted[1:] != cust_sorted[:-1]])
    counts = np.diff(np.concatenate([np.flatnonzero(boundaries), [len(cust_sorted)]]))
    running = _group_cumsum(pts_sorted.astype(float), counts)
    crossed = (running >= 1_000) & (running - pts_sorted < 1_000)
    redeem_rows = sort[crossed]

    n_earn, n_redeem = len(points), len(redeem_rows)
    occurred_np = occurred.to_numpy()
    occurred_all = pa.array(
        np.concatenate([occurred_np, occurred_np[redeem_rows] + np.timedelta64(1, "h")]),
        type=pa.timestamp("us", tz="UTC"),
    )
    return pa.table(
        {
            "loyalty_event_id": _ids("LE", n_earn + n_redeem, 8),
            "customer_id": np.concatenate([customer, customer[redeem_rows]]),
            "event_type": np.concatenate([np.full(n_earn, "earn"), np.full(n_redeem, "redeem")]),
            "points": np.concatenate([points, np.full(n_redeem, -500)]),
            "order_id": np.concatenate([order_ids, order_ids[redeem_rows]]),
            "occurred_at": occurred_all,
            "updated_at": occurred_all,
        }
    )


@dataclass(frozen=True)
class _Campaigns:
    platform: np.ndarray
    campaign_id: np.ndarray
    name: np.ndarray


def _campaigns() -> _Campaigns:
    google = [f"G-{i}" for i in range(1, 7)]
    meta = [f"{238_000_000 + i}" for i in range(1, 6)]
    themes = ["brand", "generic", "retargeting", "prospecting", "seasonal", "shopping"]
    return _Campaigns(
        platform=np.array(["google_ads"] * len(google) + ["meta_ads"] * len(meta)),
        campaign_id=np.array(google + meta),
        name=np.array(
            [f"GA | {themes[i]}" for i in range(len(google))] + [f"FB - {themes[i]}" for i in range(len(meta))]
        ),
    )


def _web_events(config: GeneratorConfig, customers: pa.Table, orders: pa.Table, campaigns: _Campaigns) -> pa.Table:
    """GA4-style events: one session per order plus browsing sessions; logged-in sessions carry user_id."""
    rng = _rng(config.seed, 4)
    days = config.size.days
    customer_ids = customers["customer_id"].to_numpy(zero_copy_only=False)
    n_customers = len(customer_ids)
    n_anon = config.size.anonymous_visitors

    # Sessions: purchase sessions (one per order, logged in) + browsing sessions for customers and anonymous visitors.
    order_customer = np.searchsorted(customer_ids, orders["customer_id"].to_numpy(zero_copy_only=False))
    order_day = (orders["ordered_at"].to_numpy().astype("int64") / 1e6 - config.start.timestamp()) / SECONDS_PER_DAY
    browse_per_customer = rng.poisson(3.0, n_customers)
    browse_owner = np.repeat(np.arange(n_customers), browse_per_customer)
    browse_day = rng.uniform(0, days, len(browse_owner))
    anon_sessions = rng.integers(1, 3, n_anon)
    anon_owner = np.repeat(np.arange(n_customers, n_customers + n_anon), anon_sessions)
    anon_day = rng.uniform(0, days, len(anon_owner))

    visitor = np.concatenate([order_customer, browse_owner, anon_owner])
    day = np.concatenate([order_day - rng.uniform(0.002, 0.02, len(order_customer)), browse_day, anon_day])
    day = np.maximum(day, 0.0)
    is_purchase = np.concatenate(
        [np.ones(len(order_customer), bool), np.zeros(len(browse_owner) + len(anon_owner), bool)]
    )
    logged_in = is_purchase | ((visitor < n_customers) & (rng.random(len(visitor)) < 0.6))
    n_sessions = len(visitor)

    channel = rng.choice(len(CHANNELS), n_sessions, p=CHANNEL_WEIGHTS)
    source = np.array([c[0] for c in CHANNELS])[channel]
    medium = np.array([c[1] for c in CHANNELS])[channel]
    paid_platform = np.array([c[2] for c in CHANNELS])[channel]
    campaign = np.full(n_sessions, "", dtype=object)
    for platform in ("google_ads", "meta_ads"):
        mask = paid_platform == platform
        names = campaigns.name[campaigns.platform == platform]
        campaign[mask] = rng.choice(names, mask.sum())
    click_id = np.char.add("c", rng.integers(10**11, 10**12, n_sessions).astype(str))
    gclid = np.where(paid_platform == "google_ads", click_id, None)
    fbclid = np.where(paid_platform == "meta_ads", click_id, None)

    # Events per session: session_start + 1..6 page_views (+ purchase). Events are 20-90 s apart.
    views = rng.integers(1, 7, n_sessions)
    per_session = 1 + views + is_purchase
    session_of_event = np.repeat(np.arange(n_sessions), per_session)
    position = _group_cumsum(np.ones(len(session_of_event)), per_session).astype(int) - 1
    is_last = position == per_session[session_of_event] - 1
    event_name = np.where(position == 0, "session_start", "page_view").astype(object)
    event_name[is_last & is_purchase[session_of_event]] = "purchase"
    step = rng.uniform(20, 90, len(session_of_event)) / SECONDS_PER_DAY
    event_day = day[session_of_event] + _group_cumsum(step, per_session) - step  # first event at session start
    event_micros = (config.start.timestamp() * 1e6 + event_day * SECONDS_PER_DAY * 1e6).astype("int64")

    visitor_ids = np.concatenate([customer_ids, _ids("A", n_anon)])
    pseudo = np.char.add(np.char.zfill(rng.integers(10**8, 10**9, n_customers + n_anon).astype(str), 10), ".1")
    session_ids = (config.start.timestamp() + day * SECONDS_PER_DAY).astype("int64")
    pages = np.array(["/", "/category/apparel", "/category/home", "/product", "/cart", "/search"])
    page = np.where(event_name == "purchase", "/checkout/complete", rng.choice(pages, len(session_of_event)))
    v = visitor[session_of_event]
    session_order = np.concatenate(
        [orders["order_id"].to_numpy(zero_copy_only=False), np.full(n_sessions - len(order_customer), None)]
    )
    transaction_id = np.where(event_name == "purchase", session_order[session_of_event], None)
    user_id = np.where(logged_in[session_of_event], visitor_ids[v], None)
    keep = event_micros < config.end.timestamp() * 1e6
    return pa.table(
        {
            "event_id": _ids("E", len(session_of_event), 10),
            "event_timestamp": event_micros,
            "event_name": event_name.astype(str),
            "user_pseudo_id": pseudo[v],
            "user_id": pa.array(user_id, type=pa.string()),
            "ga_session_id": session_ids[session_of_event],
            "page_location": np.char.add("https://shop.example.com", page.astype(str)),
            "traffic_source": source[session_of_event],
            "traffic_medium": medium[session_of_event],
            "traffic_campaign": pa.array(np.where(campaign == "", None, campaign)[session_of_event], type=pa.string()),
            "gclid": pa.array(gclid[session_of_event], type=pa.string()),
            "fbclid": pa.array(fbclid[session_of_event], type=pa.string()),
            "transaction_id": pa.array(transaction_id, type=pa.string()),
        }
    ).filter(pa.array(keep))


def _ad_stats(config: GeneratorConfig, campaigns: _Campaigns) -> tuple[pa.Table, pa.Table]:
    """Daily stats per campaign; Google Ads reports cost in micros (USD account), Meta in EUR with its own names."""
    rng = _rng(config.seed, 5)
    days = config.size.days
    dates = np.array([config.end_date - timedelta(days=days - 1 - d) for d in range(days)], dtype="datetime64[D]")

    def stats(platform: str, cpc_eur_or_usd: float) -> tuple[np.ndarray, ...]:
        ids = campaigns.campaign_id[campaigns.platform == platform]
        names = campaigns.name[campaigns.platform == platform]
        n = len(ids) * days
        campaign_idx = np.tile(np.arange(len(ids)), days)
        day_idx = np.repeat(np.arange(days), len(ids))
        impressions = rng.poisson(rng.uniform(2_000, 20_000, len(ids))[campaign_idx])
        clicks = rng.binomial(impressions, 0.02)
        cost = np.round(clicks * rng.gamma(4.0, cpc_eur_or_usd / 4.0, n), 2)
        conversions = rng.binomial(clicks, 0.03)
        return ids[campaign_idx], names[campaign_idx], dates[day_idx], impressions, clicks, cost, conversions

    g_id, g_name, g_date, g_imp, g_clk, g_cost, g_conv = stats("google_ads", 0.9)
    google = pa.table(
        {
            "segments_date": pa.array(g_date),
            "customer_id": np.full(len(g_id), "123-456-7890"),
            "customer_currency_code": np.full(len(g_id), "USD"),
            "customer_time_zone": np.full(len(g_id), "America/New_York"),
            "campaign_id": g_id,
            "campaign_name": g_name,
            "metrics_impressions": g_imp,
            "metrics_clicks": g_clk,
            "metrics_cost_micros": (g_cost * 1_000_000).astype("int64"),
            "metrics_conversions": g_conv.astype(float),
        }
    )
    m_id, m_name, m_date, m_imp, m_clk, m_cost, m_conv = stats("meta_ads", 0.7)
    meta = pa.table(
        {
            "date_start": pa.array(m_date),
            "account_id": np.full(len(m_id), "act_998877"),
            "account_currency": np.full(len(m_id), "EUR"),
            "account_timezone": np.full(len(m_id), "Europe/Dublin"),
            "campaign_id": m_id,
            "campaign_name": m_name,
            "impressions": m_imp,
            "clicks": m_clk,
            "spend": m_cost,
            "actions_purchase": m_conv,
        }
    )
    return google, meta
