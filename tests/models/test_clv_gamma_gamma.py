"""Gamma-Gamma: reproduction of Fader & Hardie (2013) on CDNOW, recovery, errors."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from models import (
    GammaGammaFitter,
    GammaGammaParams,
    InvalidSummaryError,
    gamma_gamma_log_likelihood,
    simulate_gamma_gamma_spend,
)
from tests.fit_checks import assert_local_maximum


def test_cdnow_fit_reproduces_fader_hardie_2013(cdnow_gg: GammaGammaFitter) -> None:
    # FH 2013: 946 repeat customers, mean value of the repeat transactions in the
    # 39-week calibration period (same-day transactions summed): p=6.25, q=3.74, gamma=15.44.
    p = cdnow_gg.params_
    assert cdnow_gg.n_customers_ == 946
    assert (round(p.p, 2), round(p.q, 2), round(p.gamma, 2)) == (6.25, 3.74, 15.44)


def test_cdnow_fit_is_a_maximum_of_the_likelihood(cdnow_gg: GammaGammaFitter, cdnow_summary: pd.DataFrame) -> None:
    rep = cdnow_summary[cdnow_summary["frequency"] > 0]
    assert_local_maximum(
        lambda p: float(gamma_gamma_log_likelihood(p, rep["frequency"], rep["monetary_value"]).sum()), cdnow_gg.params_
    )


def test_log_likelihood_function_matches_fit(cdnow_gg: GammaGammaFitter, cdnow_summary: pd.DataFrame) -> None:
    rep = cdnow_summary[cdnow_summary["frequency"] > 0]
    ll = gamma_gamma_log_likelihood(cdnow_gg.params_, rep["frequency"], rep["monetary_value"])
    assert ll.sum() == pytest.approx(cdnow_gg.log_likelihood_, abs=1e-8)


def test_conditional_expected_average_profit(cdnow_gg: GammaGammaFitter) -> None:
    p = cdnow_gg.params_
    x = pd.Series([0, 1, 10, 1000], index=list("abcd"))
    m = pd.Series([0.0, 20.0, 20.0, 20.0], index=list("abcd"))
    out = cdnow_gg.conditional_expected_average_profit(x, m)
    assert isinstance(out, pd.Series) and list(out.index) == list("abcd")
    population = p.p * p.gamma / (p.q - 1)
    assert out["a"] == pytest.approx(population) == pytest.approx(cdnow_gg.expected_average_spend())
    weight = p.p * 1 / (p.p * 1 + p.q - 1)
    assert out["b"] == pytest.approx(weight * 20 + (1 - weight) * population)
    assert abs(out["d"] - 20) < abs(out["c"] - 20) < abs(out["b"] - 20)  # shrinkage fades with x


def test_recovers_true_parameters_on_simulated_spend() -> None:
    rng = np.random.default_rng(2013)
    true = GammaGammaParams(p=6.0, q=4.0, gamma=15.0)
    x = rng.integers(1, 15, 200_000)
    m = simulate_gamma_gamma_spend(true, x, rng=rng)
    gg = GammaGammaFitter().fit(x, m)
    fitted = gg.params_
    # p and gamma are strongly correlated (errors up to 3.9% over seeds 0-3 at n=200k): 10%;
    # q and the population mean spend p*gamma/(q-1) are pinned down much better: 3%.
    for name, rel in (("p", 0.10), ("q", 0.03), ("gamma", 0.10)):
        assert getattr(fitted, name) == pytest.approx(getattr(true, name), rel=rel), name
    assert gg.expected_average_spend() == pytest.approx(true.p * true.gamma / (true.q - 1), rel=0.03)


def test_invalid_inputs_raise_named_error() -> None:
    gg = GammaGammaFitter()
    with pytest.raises(InvalidSummaryError, match=r"monetary_value must be > 0; 2 rows"):
        gg.fit([1, 2, 3], [10.0, 0.0, -5.0])
    with pytest.raises(InvalidSummaryError, match=r"frequency must be > 0 .* 1 row have frequency 0"):
        gg.fit([0, 2, 3], [10.0, 1.0, 5.0])
    with pytest.raises(InvalidSummaryError, match="mismatched lengths"):
        gg.fit([1, 2], [10.0])
    with pytest.raises(InvalidSummaryError, match="NaN"):
        gg.fit([1, 2], [10.0, np.nan])


def test_fit_returns_self_and_prediction_does_not_mutate(cdnow_summary: pd.DataFrame) -> None:
    rep = cdnow_summary[cdnow_summary["frequency"] > 0]
    gg = GammaGammaFitter()
    assert gg.fit(rep["frequency"], rep["monetary_value"]) is gg
    before = copy.deepcopy(vars(gg))
    gg.conditional_expected_average_profit(rep["frequency"], rep["monetary_value"])
    assert vars(gg) == before
