"""The CLV asset's fitting step on generator data: recovers the true processes and predicts sensibly."""

from __future__ import annotations

import pandas as pd
import pytest

from models import BetaGeoParams, GammaGammaParams, gamma_gamma_log_likelihood, mbgnbd_log_likelihood
from orchestration.customer_models.clv import fit_clv
from simulator.retailer import FX_TO_USD, GeneratorConfig, generate
from tests.fit_checks import assert_local_maximum

CONFIG = GeneratorConfig(scale="S", seed=11)
REFUND_RATE = CONFIG.truth.refund_rate


@pytest.fixture(scope="module")
def fitted():
    tables = generate(CONFIG)
    orders = tables["crm_orders"].to_pandas()
    orders = orders[orders["status"] == "completed"]  # the asset fits on completed orders, as fct_orders feeds it
    # Internal test accounts' token orders come from no purchase process (the warehouse is to exclude them).
    customers = tables["crm_customers"].to_pandas()
    test = customers.loc[customers["email"].str.contains(r"^test\+|@qa\.c360-internal\.test$", na=False)]
    orders = orders[~orders["customer_id"].isin(test["customer_id"])]
    transactions = pd.DataFrame(
        {
            "customer_key": orders["customer_id"],
            "order_date": orders["ordered_at"].dt.tz_localize(None).dt.normalize(),
            "amount": orders["order_total"] * orders["currency"].str.upper().map(FX_TO_USD),
        }
    )
    return fit_clv(transactions, CONFIG.end_date, margin=0.35, monthly_discount_rate=0.01), transactions


def test_fit_recovers_the_generator_truth(fitted) -> None:
    """Refunds thin the purchase process at random (3%), which scales the rate: alpha_kept = alpha / (1 - 0.03)."""
    fitted, _ = fitted
    d, truth = fitted.diagnostics, CONFIG.truth
    # A real maximum of the likelihood of the summary it predicted from, not just a fit that returned.
    p = fitted.predictions
    params = BetaGeoParams(d["mbgnbd_r"], d["mbgnbd_alpha_days"], d["mbgnbd_a"], d["mbgnbd_b"])

    def log_likelihood(params: BetaGeoParams) -> float:
        return float(mbgnbd_log_likelihood(params, p["frequency"], p["recency_days"], p["tenure_days"]).sum())

    assert log_likelihood(params) == pytest.approx(d["mbgnbd_log_likelihood"], rel=1e-9)
    assert_local_maximum(log_likelihood, params)
    repeat = p[p["frequency"] > 0]
    spend = GammaGammaParams(d["gamma_gamma_p"], d["gamma_gamma_q"], d["gamma_gamma_gamma"])

    def spend_log_likelihood(params: GammaGammaParams) -> float:
        return float(
            gamma_gamma_log_likelihood(params, repeat["frequency"], repeat["average_repeat_order_value"]).sum()
        )

    assert spend_log_likelihood(spend) == pytest.approx(d["gamma_gamma_log_likelihood"], rel=1e-9)
    assert_local_maximum(spend_log_likelihood, spend)
    assert d["mbgnbd_r"] == pytest.approx(truth.r, rel=0.15)
    assert d["mbgnbd_alpha_days"] == pytest.approx(truth.alpha / (1 - REFUND_RATE), rel=0.15)
    # a and b alone are loosely identified at this size; their mean a / (a + b) is not (see test_generator.py).
    assert d["mbgnbd_a"] / (d["mbgnbd_a"] + d["mbgnbd_b"]) == pytest.approx(truth.a / (truth.a + truth.b), rel=0.2)
    assert d["mbgnbd_a"] == pytest.approx(truth.a, rel=0.45)
    assert d["mbgnbd_b"] == pytest.approx(truth.b, rel=0.45)
    assert d["gamma_gamma_p"] == pytest.approx(truth.p, rel=0.15)
    assert d["gamma_gamma_q"] == pytest.approx(truth.q, rel=0.15)
    assert d["gamma_gamma_gamma"] == pytest.approx(truth.gamma, rel=0.15)


def test_predictions_are_one_row_per_buyer_and_in_range(fitted) -> None:
    fitted, transactions = fitted
    p = fitted.predictions
    assert p["customer_key"].is_unique and len(p) == fitted.diagnostics["customers"]
    assert set(p["customer_key"]) == set(transactions["customer_key"])
    assert p["probability_alive"].between(0, 1).all()
    assert (p["predicted_clv_12_months"] >= 0).all()
    one_timers = p[p["frequency"] == 0].sort_values("tenure_days")
    # MBG/NBD: a one-time buyer may have left right after the purchase, the more likely the longer ago it was
    # (BG/NBD gave every one-time buyer P(alive) = 1, i.e. churn risk 0).
    assert (one_timers["probability_alive"] < 1).all()
    assert one_timers["probability_alive"].is_monotonic_decreasing
    # Customers who bought often and recently are worth more than those who stopped long ago.
    recent = p[(p["frequency"] >= 3) & (p["tenure_days"] - p["recency_days"] < 30)]
    lapsed = p[(p["frequency"] >= 3) & (p["tenure_days"] - p["recency_days"] > 180)]
    assert recent["predicted_clv_12_months"].mean() > 3 * lapsed["predicted_clv_12_months"].mean()
    assert recent["probability_alive"].mean() > lapsed["probability_alive"].mean()
