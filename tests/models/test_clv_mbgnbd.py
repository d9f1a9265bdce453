"""MBG/NBD (Batislam, Denizel & Filiztekin 2007): CDNOW reference fit, closed forms, recovery, one-time buyers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import hyp2f1

from models import BetaGeoFitter, BetaGeoParams, ModifiedBetaGeoFitter, mbgnbd_log_likelihood
from models.bgnbd import _Sufficient
from models.mbgnbd import _neg_mean_ll_and_grad
from tests.fit_checks import assert_local_maximum


@pytest.fixture(scope="module")
def cdnow_mbgnbd(cdnow_summary: pd.DataFrame) -> ModifiedBetaGeoFitter:
    s = cdnow_summary
    return ModifiedBetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])


def test_cdnow_fit_reproduces_btydplus(cdnow_mbgnbd: ModifiedBetaGeoFitter, cdnow_summary: pd.DataFrame) -> None:
    """BTYDplus (Platzer's R reference implementation of BDF 2007, `mbgnbd.EstimateParameters`) on the same CDNOW
    calibration summary gives r = 0.525, alpha = 6.183, a = 0.891, b = 1.614 (weeks); lifetimes' test suite pins the
    same four numbers against it."""
    p = cdnow_mbgnbd.params_
    assert (round(p.r, 3), round(p.alpha, 3), round(p.a, 3), round(p.b, 3)) == (0.525, 6.183, 0.891, 1.614)
    s = cdnow_summary
    ll = mbgnbd_log_likelihood(p, s["frequency"], s["recency"], s["T"])
    assert ll.sum() == pytest.approx(cdnow_mbgnbd.log_likelihood_, abs=1e-8)
    assert_local_maximum(lambda q: float(mbgnbd_log_likelihood(q, s["frequency"], s["recency"], s["T"]).sum()), p)


def test_gradient_matches_finite_differences(cdnow_summary: pd.DataFrame) -> None:
    s = cdnow_summary
    suff = _Sufficient(*(s[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T")), np.ones(len(s)))
    theta = np.log([0.6, 5.0, 0.9, 1.8])
    _, grad = _neg_mean_ll_and_grad(theta, suff)
    h = 1e-6
    numeric = [
        (_neg_mean_ll_and_grad(theta + h * e, suff)[0] - _neg_mean_ll_and_grad(theta - h * e, suff)[0]) / (2 * h)
        for e in np.eye(4)
    ]
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-9)


def test_one_time_buyers_can_be_gone(cdnow_mbgnbd: ModifiedBetaGeoFitter, cdnow_bgnbd: BetaGeoFitter) -> None:
    """BDF 2007 eq. 6: P(alive | x=0) = 1 / (1 + a/b ((alpha+T)/alpha)^r) -- below 1 and falling with T, where
    BG/NBD says 1 for every one-time buyer."""
    p = cdnow_mbgnbd.params_
    T = np.array([0.0, 1.0, 10.0, 38.86])
    alive = cdnow_mbgnbd.probability_alive(np.zeros(4), np.zeros(4), T)
    np.testing.assert_allclose(alive, 1 / (1 + p.a / p.b * ((p.alpha + T) / p.alpha) ** p.r), rtol=1e-12)
    assert alive[0] == pytest.approx(p.b / (p.a + p.b))  # dropped at the first purchase with probability E[p]
    assert np.all(np.diff(alive) < 0)
    assert (cdnow_bgnbd.probability_alive(np.zeros(4), np.zeros(4), T) == 1).all()


def test_expectations_match_the_printed_formulas(cdnow_mbgnbd: ModifiedBetaGeoFitter) -> None:
    """BDF 2007 eq. 7 as printed (no Euler transformation), and E[X(t)] = b/(a-1) [1 - (alpha/(alpha+t))^r
    2F1(r, b+1; a+b; t/(alpha+t))] for a new customer."""
    p = cdnow_mbgnbd.params_
    r, al, a, b = p.r, p.alpha, p.a, p.b
    for t, x, t_x, T in [(39.0, 2, 30.43, 38.86), (39.0, 0, 0.0, 38.86), (10.0, 7, 35.0, 36.0), (52.0, 1, 1.71, 30.0)]:
        z = t / (al + T + t)
        bracket = 1 - ((al + T) / (al + T + t)) ** (r + x) * hyp2f1(r + x, b + x + 1, a + b + x, z)
        printed = (a + b + x) / (a - 1) * bracket
        printed /= 1 + a / (b + x) * ((al + T) / (al + t_x)) ** (r + x)
        assert cdnow_mbgnbd.expected_purchases(t, [x], [t_x], [T])[0] == pytest.approx(printed, rel=1e-9)
    t = np.array([1.0, 39.0, 78.0])
    new = b / (a - 1) * (1 - (al / (al + t)) ** r * hyp2f1(r, b + 1, a + b, t / (al + t)))
    np.testing.assert_allclose(cdnow_mbgnbd.expected_purchases_new_customer(t), new, rtol=1e-10)


def test_recovers_parameters_and_truth_of_dropout() -> None:
    """100k customers simulated from MBG/NBD (the number of repeat purchases before dropping out is Geometric on
    {0, 1, ...}), observed 20-60 units: parameters come back within 5% (r, alpha) and 10% (a, b)."""
    rng = np.random.default_rng(2007)
    true = BetaGeoParams(r=0.8, alpha=10.0, a=1.5, b=4.0)
    n = 100_000
    T = rng.uniform(20, 60, n)
    lam = rng.gamma(true.r, 1 / true.alpha, n)
    repeats_before_dropout = rng.geometric(rng.beta(true.a, true.b, n)) - 1
    arrivals = rng.poisson(lam * T)
    x = np.minimum(repeats_before_dropout, arrivals)
    t_x = np.zeros(n)
    t_x[x > 0] = T[x > 0] * rng.beta(x[x > 0], arrivals[x > 0] - x[x > 0] + 1)
    m = ModifiedBetaGeoFitter().fit(x, t_x, T)
    for name, tol in (("r", 0.05), ("alpha", 0.05), ("a", 0.10), ("b", 0.10)):
        assert getattr(m.params_, name) == pytest.approx(getattr(true, name), rel=tol), name
    # Dropped out by T: made all the purchases it would make and then left (x repeats all happened).
    gone = repeats_before_dropout <= arrivals
    alive = m.probability_alive(x, t_x, T)
    # Calibrated on average, over everyone and over the one-time buyers alone (BG/NBD would say 1 for those).
    assert alive.mean() == pytest.approx(1 - gone.mean(), abs=0.01)
    once = x == 0
    assert alive[once].mean() == pytest.approx(1 - gone[once].mean(), abs=0.02)
    assert gone[once].mean() > 0.5
