"""Fit MBG/NBD + Gamma-Gamma on the warehouse's completed orders and predict each customer's next 12 months.

Pure function of a transactions frame, so it is testable without dbt; the dbt Python model (in_dbt.py) does the I/O.

Purchase model: MBG/NBD (Batislam et al. 2007), not BG/NBD: a customer may drop out right after any purchase,
the first one included, so a one-time buyer's P(alive) falls with the time since their purchase (BG/NBD gives every
one-time buyer P(alive) = 1, hence churn risk 0). It fits the same four parameters at the same cost; where it has no
interior optimum the fit falls back to BG/NBD (see purchase_model.py).

Rule for zero-spend repeat purchases: MBG/NBD models how often people buy and uses every customer. Gamma-Gamma models
how much they spend per purchase and is defined only for a positive average spend, so a repeat customer whose average
repeat spend is not positive (e.g. free re-orders, a $0 repeat purchase) is left out of the spend fit, counted
(`spend_model_excluded_customers`, in the run report) and flagged (`spend_model_excluded`).
Their expected order value falls back to the population mean spend, the same as for a customer without repeat
purchases (nothing usable is known about their spend), and their CLV uses it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from models import GammaGammaFitter, calibration_summary, customer_lifetime_value
from models.clv import DAYS_PER_MONTH
from orchestration.customer_models.purchase_model import fit_purchase_model


@dataclass(frozen=True)
class ClvFit:
    predictions: pd.DataFrame  # one row per customer_key
    diagnostics: dict[str, float | int | bool]
    purchase_model: str  # "mbgnbd", or "bgnbd" after purchase_model.py's fallback; the diagnostics' key prefix


def fit_clv(
    transactions: pd.DataFrame,
    as_of: date,
    *,
    horizon_months: int = 12,
    monthly_discount_rate: float = 0.01,
    margin: float = 1.0,
) -> ClvFit:
    """`transactions`: customer_key, order_date, amount (completed orders, reporting currency); time unit = days."""
    started = time.perf_counter()
    summary = calibration_summary(
        transactions, "customer_key", "order_date", "amount", observation_end=pd.Timestamp(as_of), time_unit="D"
    )
    name, purchases = fit_purchase_model(
        summary["frequency"], summary["recency"], summary["T"], horizon=horizon_months * DAYS_PER_MONTH
    )
    repeat = summary[summary["frequency"] > 0]
    spenders = repeat[repeat["monetary_value"] > 0]  # Gamma-Gamma needs a positive average repeat spend
    gamma_gamma = GammaGammaFitter().fit(spenders["frequency"], spenders["monetary_value"])
    fitted_s = time.perf_counter() - started

    x, t_x, t_cal, m = (summary[c].to_numpy() for c in ("frequency", "recency", "T", "monetary_value"))
    horizon_days = horizon_months * DAYS_PER_MONTH
    excluded = (x > 0) & ~(m > 0)
    # No repeat purchase, or left out of the spend model: GG falls back to the population mean spend.
    spend_x = np.where(excluded, 0, x)
    m = np.where(spend_x > 0, m, 0.0)
    expected_spend = gamma_gamma.conditional_expected_average_profit(spend_x, m)
    clv = customer_lifetime_value(
        purchases, gamma_gamma, x, t_x, t_cal, m,
        time_unit_days=1.0, horizon_months=horizon_months, monthly_discount_rate=monthly_discount_rate, margin=margin,
        expected_spend=expected_spend,
    )  # fmt: skip
    predictions = pd.DataFrame(
        {
            "customer_key": summary.index,
            "as_of_date": as_of,
            "frequency": x.astype("int64"),
            "recency_days": t_x,
            "tenure_days": t_cal,
            "average_repeat_order_value": np.where(x > 0, summary["monetary_value"].to_numpy(), np.nan),
            "spend_model_excluded": excluded,
            "probability_alive": purchases.probability_alive(x, t_x, t_cal),
            "expected_purchases_next_12_months": purchases.expected_purchases(horizon_days, x, t_x, t_cal),
            "expected_average_order_value": expected_spend,
            "predicted_clv_12_months": np.asarray(clv, dtype=float),
        }
    )
    bg, gg = purchases.params_, gamma_gamma.params_
    diagnostics = {
        "customers": len(summary),
        "repeat_customers": len(repeat),
        "spend_model_customers": len(spenders),
        "spend_model_excluded_customers": int(excluded.sum()),
        f"{name}_r": bg.r,
        f"{name}_alpha_days": bg.alpha,
        f"{name}_a": bg.a,
        f"{name}_b": bg.b,
        f"{name}_log_likelihood": purchases.log_likelihood_,
        "gamma_gamma_p": gg.p,
        "gamma_gamma_q": gg.q,
        "gamma_gamma_gamma": gg.gamma,
        "gamma_gamma_log_likelihood": gamma_gamma.log_likelihood_,
        "converged": bool(purchases.converged_ and gamma_gamma.converged_),
        "fit_seconds": round(fitted_s, 3),
        "mean_predicted_clv_12_months": float(np.mean(clv)),
    }
    return ClvFit(predictions=predictions, diagnostics=diagnostics, purchase_model=name)
