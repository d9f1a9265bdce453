"""customer_lifetime_value: month-by-month discounted sum with explicit time units."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from models import BetaGeoFitter, GammaGammaFitter, InvalidSummaryError, customer_lifetime_value


def test_clv_matches_explicit_monthly_sum(
    cdnow_bgnbd: BetaGeoFitter, cdnow_gg: GammaGammaFitter, cdnow_summary: pd.DataFrame
) -> None:
    s = cdnow_summary.iloc[:50]
    args = (s["frequency"], s["recency"], s["T"], s["monetary_value"])
    clv = customer_lifetime_value(
        cdnow_bgnbd,
        cdnow_gg,
        *args,
        time_unit_days=7,
        horizon_months=12,
        monthly_discount_rate=0.01,
        margin=0.3,
    )
    assert isinstance(clv, pd.Series) and clv.index.equals(s.index)
    spend = cdnow_gg.conditional_expected_average_profit(s["frequency"], s["monetary_value"])
    weeks_per_month = (365.25 / 12) / 7
    expected = np.zeros(len(s))
    previous = np.zeros(len(s))
    for i in range(1, 13):
        current = cdnow_bgnbd.expected_purchases(i * weeks_per_month, *args[:3]).to_numpy()
        expected += (current - previous) * spend.to_numpy() * 0.3 / 1.01**i
        previous = current
    np.testing.assert_allclose(clv.to_numpy(), expected, rtol=1e-10)


def test_clv_undiscounted_equals_expected_purchases_times_spend(
    cdnow_bgnbd: BetaGeoFitter, cdnow_gg: GammaGammaFitter, cdnow_summary: pd.DataFrame
) -> None:
    s = cdnow_summary.iloc[:20]
    x, t_x, T, m = (s[c].to_numpy() for c in ("frequency", "recency", "T", "monetary_value"))
    clv = customer_lifetime_value(cdnow_bgnbd, cdnow_gg, x, t_x, T, m, time_unit_days=7, monthly_discount_rate=0.0)
    assert isinstance(clv, np.ndarray)
    horizon_weeks = 12 * (365.25 / 12) / 7
    ey = cdnow_bgnbd.expected_purchases(horizon_weeks, x, t_x, T)
    np.testing.assert_allclose(clv, ey * cdnow_gg.conditional_expected_average_profit(x, m), rtol=1e-10)
    # the same customers described in days give the same CLV
    in_days = BetaGeoFitter().fit(cdnow_summary["frequency"], cdnow_summary["recency"] * 7, cdnow_summary["T"] * 7)
    clv_days = customer_lifetime_value(
        in_days, cdnow_gg, x, t_x * 7, T * 7, m, time_unit_days=1, monthly_discount_rate=0.0
    )
    np.testing.assert_allclose(clv_days, clv, rtol=1e-4)


def test_clv_grows_with_horizon_and_does_not_mutate(
    cdnow_bgnbd: BetaGeoFitter, cdnow_gg: GammaGammaFitter, cdnow_summary: pd.DataFrame
) -> None:
    s = cdnow_summary.iloc[:20]
    args = (s["frequency"], s["recency"], s["T"], s["monetary_value"])
    before = (copy.deepcopy(vars(cdnow_bgnbd)), copy.deepcopy(vars(cdnow_gg)))
    short = customer_lifetime_value(cdnow_bgnbd, cdnow_gg, *args, time_unit_days=7, horizon_months=6)
    long = customer_lifetime_value(cdnow_bgnbd, cdnow_gg, *args, time_unit_days=7, horizon_months=24)
    assert (long > short).all() and (short > 0).all()
    assert vars(cdnow_bgnbd).keys() == before[0].keys()
    assert all(vars(cdnow_bgnbd)[k] == v for k, v in before[0].items())
    assert vars(cdnow_gg) == before[1]


def test_clv_argument_errors(cdnow_bgnbd: BetaGeoFitter, cdnow_gg: GammaGammaFitter) -> None:
    args = ([1], [2.0], [3.0], [10.0])
    with pytest.raises(InvalidSummaryError, match="horizon_months"):
        customer_lifetime_value(cdnow_bgnbd, cdnow_gg, *args, time_unit_days=7, horizon_months=0)
    with pytest.raises(InvalidSummaryError, match="time_unit_days"):
        customer_lifetime_value(cdnow_bgnbd, cdnow_gg, *args, time_unit_days=0)
    with pytest.raises(InvalidSummaryError, match="recency is greater than T"):
        customer_lifetime_value(cdnow_bgnbd, cdnow_gg, [1], [4.0], [3.0], [10.0], time_unit_days=7)
