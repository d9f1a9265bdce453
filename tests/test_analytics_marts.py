"""Analytics figures an analyst can trust, on the session's clean XS run: RFM scores and segments that all occur
despite heavy ties, and one CAC per acquisition channel whichever mart reports it, matching the generator's truth.

Expected figures come from the generator's tables and truth (xs_expected, xs_truth) and from the seed files.
"""

from __future__ import annotations

import csv
from datetime import datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from orchestration.config import DBT_PROJECT_DIR
from orchestration.extract.ad_platforms import AD_PLATFORMS
from tests.conftest import XS, Baseline, ExpectedWarehouse

pytestmark = pytest.mark.slow


def _published(baseline: Baseline, sql: str) -> list[tuple]:
    with duckdb.connect(str(baseline.settings.published_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def _completed_orders_per_person(expected: ExpectedWarehouse) -> pd.Series:
    return expected.completed.groupby("person_id").size()


def test_every_rfm_score_occurs_and_no_segment_is_structurally_empty(
    xs_baseline: Baseline, xs_expected: ExpectedWarehouse
) -> None:
    scores = _published(
        xs_baseline,
        "select list(distinct recency_score order by recency_score), list(distinct frequency_score order by "
        "frequency_score), list(distinct monetary_score order by monetary_score), list(distinct "
        "frequency_monetary_score order by frequency_monetary_score) from mart_rfm",
    )[0]
    assert [list(s) for s in scores] == [[1, 2, 3, 4, 5]] * 4
    # One-order customers are the heavy tie: all of them, and only they, score F1 (plain rank quintiles gave F1, F3,
    # F5 only on this data).
    orders = _completed_orders_per_person(xs_expected)
    assert (orders == 1).sum() > len(orders) / 2
    (f1_customers,) = _published(xs_baseline, "select count(*) from mart_rfm where frequency_score = 1")[0]
    assert f1_customers == (orders == 1).sum()
    with (DBT_PROJECT_DIR / "seeds" / "rfm_segment_map.csv").open() as f:
        cells = list(csv.DictReader(f))
    segment_sizes = dict(_published(xs_baseline, "select rfm_segment, count(*) from mart_rfm group by 1"))
    assert set(segment_sizes) == {cell["segment"] for cell in cells}
    assert min(segment_sizes.values()) > 0 and "Need Attention" in segment_sizes


def test_cac_is_one_number_per_acquisition_channel_and_counts_the_true_acquisitions(
    xs_baseline: Baseline, xs_expected: ExpectedWarehouse, xs_truth: dict[str, object]
) -> None:
    acquisition = xs_truth["acquisition"].to_pandas().set_index("person_id")
    buyers = pd.DataFrame(index=_completed_orders_per_person(xs_expected).index)
    buyers = buyers.join(acquisition[["source", "medium"]]).fillna("(unknown)")
    expected = buyers.groupby([buyers["source"].str.lower(), buyers["medium"].str.lower()]).size().to_dict()
    performance = {
        (source, medium): (int(new), spend)
        for source, medium, new, spend in _published(
            xs_baseline,
            "select traffic_source, traffic_medium, sum(new_customers), sum(spend_reporting) "
            "from mart_marketing_performance group by all having sum(new_customers) > 0",
        )
    }
    channels = {
        (source, medium): (acquired, spend, cac)
        for source, medium, acquired, spend, cac in _published(
            xs_baseline,
            "select traffic_source, traffic_medium, customers_acquired, spend_reporting, "
            "customer_acquisition_cost_reporting from mart_channel_clv_cac",
        )
    }
    assert {k: v[0] for k, v in performance.items()} == {k: v[0] for k, v in channels.items()} == expected
    assert sum(spend > 0 for _, spend, _ in channels.values()) == len(AD_PLATFORMS)  # one paid channel each
    for channel, (_, spend, cac) in channels.items():
        if spend > 0:
            assert cac == round(spend / expected[channel], 2) == round(spend / performance[channel][0], 2), channel
        else:
            assert cac is None, channel  # nobody pays for it: no CAC, not a CAC of 0
    unpaid_roas = _published(
        xs_baseline,
        "select count(*), count(roas_last_touch), count(roas_first_touch) from mart_marketing_performance "
        "where ad_platform = '(none)'",
    )[0]
    assert unpaid_roas[0] > 0 and unpaid_roas[1:] == (0, 0)  # null, never inf


def _reporting_dates(days: pd.Series, account_timezone: str, reporting_timezone: str) -> pd.Series:
    """The reporting date of each account-local day: the date its midpoint (12:00 in the account's zone) falls on in
    the reporting zone, by Python's zoneinfo (the rule the warehouse documents, computed independently of dbt)."""
    midpoints = [
        datetime.combine(day, time(12), ZoneInfo(account_timezone)).astimezone(ZoneInfo(reporting_timezone)).date()
        for day in days
    ]
    return pd.Series(midpoints, index=days.index)


def test_ad_spend_per_reporting_day_equals_the_reports_and_totals_reconcile(
    xs_baseline: Baseline, xs_tables: dict[str, pa.Table]
) -> None:
    """The reports count account-local days (America/New_York, Europe/Dublin, Europe/London): fct_ad_spend_daily
    keeps each platform's spend (account currency) on the local day it reports, puts it on the reporting date of that
    day's midpoint, and mart_marketing_performance shows the same spend on the same reporting dates (to the as-of
    date), so spend and the day's orders line up."""
    reporting_timezone = "UTC"  # the baseline run's dbt var reporting_timezone (dbt_project.yml)
    expected_local, expected_reporting = {}, {}
    for p in AD_PLATFORMS:
        report = xs_tables[p.raw_table].to_pandas()
        unit = Decimal("0.000001") if p.spend_unit == "micros" else Decimal(1)
        spend = report[p.spend_column].map(lambda v, u=unit: (Decimal(str(v)) * u).quantize(Decimal("0.01")))
        day = pd.to_datetime(report[p.date_column]).dt.date
        (timezone,) = report[p.timezone_column].unique()
        reporting = _reporting_dates(day, timezone, reporting_timezone)
        expected_local |= {(p.name, d): s for d, s in spend.groupby(day).sum().items()}
        expected_reporting |= {(p.name, d): s for d, s in spend.groupby(reporting).sum().items()}
    local = dict(
        ((platform, day), spend)
        for platform, day, spend in _published(
            xs_baseline, "select ad_platform, spend_date, sum(spend) from fct_ad_spend_daily group by all"
        )
    )
    reporting = dict(
        ((platform, day), spend)
        for platform, day, spend in _published(
            xs_baseline, "select ad_platform, spend_reporting_date, sum(spend) from fct_ad_spend_daily group by all"
        )
    )
    assert local == expected_local and reporting == expected_reporting
    spend_reporting = dict(
        ((platform, day), spend)
        for platform, day, spend in _published(
            xs_baseline,
            "select ad_platform, spend_reporting_date, sum(spend_reporting) from fct_ad_spend_daily "
            f"where spend_reporting_date <= '{XS.end_date}' group by all",  # the baseline's as-of date
        )
    )
    in_mart = dict(
        ((platform, day), spend)
        for platform, day, spend in _published(
            xs_baseline,
            "select ad_platform, date_day, sum(spend_reporting) from mart_marketing_performance "
            "where spend_reporting > 0 group by all",
        )
    )
    paid_days = {day: spend for day, spend in spend_reporting.items() if spend}  # the mart leaves out 0 spend
    assert in_mart == paid_days and sum(in_mart.values()) > 0
